//! The settings as a file another runtime loads into the server's environment: a Compose env
//! file, or a shell script a bare-metal install sources. Pure.
//!
//! Each value must reach the server's environment byte for byte as the settings Secret holds it,
//! whatever it contains (`$`, quotes, backslashes, `#`, line breaks, non-ASCII), so each format
//! writes it in a quoting its reader takes literally:
//!
//! - **dotenv** (Docker Compose's `env_file:`, `--env-file` and the project `.env`, all read by
//!   compose-go's dotenv parser). A single-quoted value is literal (no escapes, no `${VAR}`
//!   interpolation), but that parser reads `\'` as a quote and `\` before the closing quote as an
//!   escape; so a value without `'` and `\` is single-quoted, and any other value is
//!   double-quoted with `\`, `"`, line breaks escaped and every `$` doubled (`$$`), which is how
//!   a double-quoted value keeps a literal `$` from interpolation. Proven against compose-go
//!   itself (`tests/offline/compose.rs`).
//! - **shell** (`export NAME='value'` for `sh` and `bash`): POSIX single quotes are literal for
//!   every byte but `'`, which is written `'\''`. Proven with dash and bash
//!   (`tests/offline/shell_env.rs`).
//!
//! What no environment can hold is refused, naming the variable: a NUL byte (environment
//! strings end at NUL), bytes that are not UTF-8 text (both files are text), a name that is
//! not a shell identifier, and a `NAME=value` longer than Linux lets one environment string be
//! ([`MAX_ENV_STRING`]): the file would load, and then every program started from it would fail
//! with "Argument list too long".

use std::collections::BTreeMap;

/// The longest `NAME=value` one environment string may be, in bytes, its closing NUL included:
/// Linux's `MAX_ARG_STRLEN` (32 pages of 4 KiB), which `execve` applies to every argument and
/// environment string alike (the whole environment is bounded too, by a quarter of the stack
/// limit, at least 128 KiB more than this; the settings stay far below it).
pub const MAX_ENV_STRING: usize = 32 * 4096;

/// A file format for the settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EnvFormat {
    /// A Compose env file (`env_file:`, `--env-file`, the project `.env`).
    Dotenv,
    /// A POSIX shell script of `export` lines, to source before starting the server.
    Shell,
}

/// Why the settings cannot be written in a format. Never contains the value.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EncodeError {
    /// The value holds a NUL byte, which no process environment can carry.
    #[error("{name}: the value contains a NUL byte, which no environment variable can hold")]
    Nul {
        /// The variable.
        name: String,
    },
    /// The value is not UTF-8 text.
    #[error("{name}: the value is not UTF-8 text, which the settings file cannot hold")]
    NotUtf8 {
        /// The variable.
        name: String,
    },
    /// `NAME=value` is longer than one environment string may be.
    #[error(
        "{name}: the value is {bytes} bytes, more than an environment variable can hold ({limit} bytes with its name): \
         every program started with it would fail with \"Argument list too long\""
    )]
    TooLong {
        /// The variable.
        name: String,
        /// The value's length.
        bytes: usize,
        /// The most the value may be, given the name.
        limit: usize,
    },
    /// The name cannot be set by the format.
    #[error("{name}: not a valid variable name for {format} ({rule})")]
    Name {
        /// The variable.
        name: String,
        /// The format.
        format: &'static str,
        /// What a name must look like.
        rule: &'static str,
    },
}

/// The whole file: a comment header (`header` lines, line breaks in them made spaces), then one
/// line per variable, in name order.
pub fn encode(
    format: EnvFormat,
    header: &[String],
    variables: &BTreeMap<String, Vec<u8>>,
) -> Result<String, EncodeError> {
    let mut out = String::new();
    if format == EnvFormat::Shell {
        out.push_str("# shellcheck shell=sh\n");
    }
    for line in header {
        out.push_str("# ");
        out.push_str(&line.replace(['\n', '\r'], " "));
        out.push('\n');
    }
    for (name, value) in variables {
        if value.contains(&0) {
            return Err(EncodeError::Nul { name: name.clone() });
        }
        // `NAME=value` and its closing NUL.
        let limit = MAX_ENV_STRING.saturating_sub(name.len() + 2);
        if value.len() > limit {
            return Err(EncodeError::TooLong {
                name: name.clone(),
                bytes: value.len(),
                limit,
            });
        }
        let line = match format {
            EnvFormat::Dotenv => dotenv_line(name, value)?,
            EnvFormat::Shell => shell_line(name, value)?,
        };
        out.push_str(&line);
        out.push('\n');
    }
    Ok(out)
}

fn dotenv_line(name: &str, value: &[u8]) -> Result<String, EncodeError> {
    // compose-go reads names of [A-Za-z0-9_.-] (and brackets); keep to what a shell reads too.
    check_name(name, "a Compose env file")?;
    Ok(format!("{name}={}", dotenv_value(text(name, value)?)))
}

/// A dotenv value compose-go reads back as exactly `text`.
pub fn dotenv_value(text: &str) -> String {
    if !text.contains(['\'', '\\']) {
        return format!("'{text}'");
    }
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '$' => out.push_str("$$"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn shell_line(name: &str, value: &[u8]) -> Result<String, EncodeError> {
    check_name(name, "a shell script")?;
    Ok(format!("export {name}={}", shell_value(text(name, value)?)))
}

fn text<'a>(name: &str, value: &'a [u8]) -> Result<&'a str, EncodeError> {
    std::str::from_utf8(value).map_err(|_| EncodeError::NotUtf8 {
        name: name.to_string(),
    })
}

/// A POSIX single-quoted word holding exactly `text` (its bytes, whatever the locale).
pub fn shell_value(text: &str) -> String {
    format!("'{}'", text.replace('\'', "'\\''"))
}

/// Shell identifiers, `[A-Za-z_][A-Za-z0-9_]*`: the only names `export` sets in every shell.
fn check_name(name: &str, format: &'static str) -> Result<(), EncodeError> {
    let mut chars = name.chars();
    let ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(EncodeError::Name {
            name: name.to_string(),
            format,
            rule: "letters, digits and _, not starting with a digit",
        })
    }
}

#[cfg(test)]
mod tests;
