//! The value syntax OpenMetadata's config loader parses.
//!
//! The server pastes each environment variable's text into `openmetadata.yaml` where
//! `${VAR:-default}` stands, then parses the YAML (Dropwizard's substitution, openmetadata-auth.md
//! §2.7). So every value must be a YAML flow scalar, list or map on one line, and a string must
//! be quoted so that no character can change the document's structure.
//!
//! Strings are YAML double-quoted scalars in printable ASCII. Besides `"` and `\`, these
//! characters are escaped:
//! - `$`, written `\x24`: the substitution runs again on substituted text (commons-text
//!   `StringSubstitutor` is recursive), and the ingestion client runs `os.path.expandvars` on its
//!   config file, so a literal `${X}` or `$HOME` inside a secret would be replaced. The YAML
//!   parser turns `\x24` back into `$` after substitution has run;
//! - control characters (`\n`, `\t`, `\r`, `\xNN`): a raw newline would end the line;
//! - every character outside ASCII, written `\uXXXX` (`\UXXXXXXXX` beyond the Basic Multilingual
//!   Plane), line and paragraph separators, NEL and BOM among them: the server's JVM decodes its
//!   environment with the container's locale, and under a non-UTF-8 one (`LANG=C` on a glibc
//!   image; on JDK 21 whatever `-Dfile.encoding` says) every non-ASCII byte becomes U+FFFD before
//!   substitution. Escaped, the value is ASCII in the environment and the YAML parser restores the
//!   text, whatever the locale.

use std::fmt::Write as _;

/// A YAML double-quoted scalar holding exactly `value`, in printable ASCII.
pub fn quoted(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '$' => out.push_str("\\x24"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            ' '..='~' => out.push(c),
            c if (c as u32) < 0x80 => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if (c as u32) <= 0xffff => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => {
                let _ = write!(out, "\\U{:08x}", c as u32);
            }
        }
    }
    out.push('"');
    out
}

/// A YAML flow sequence of quoted strings, the form the OpenMetadata chart writes: `["a","b"]`.
pub fn list<S: AsRef<str>>(items: &[S]) -> String {
    let inner: Vec<String> = items.iter().map(|s| quoted(s.as_ref())).collect();
    format!("[{}]", inner.join(","))
}

/// A YAML flow mapping of quoted strings, in the given order: `{"k": "v"}`; `{}` when empty (an
/// empty value would parse as null, which breaks `OIDC_CUSTOM_PARAMS`, chart issues #229/#245).
/// The space after `:` is required by YAML 1.1 parsers (SnakeYAML 1.x), which do not accept
/// JSON's `"k":"v"`.
pub fn map<K: AsRef<str>, V: AsRef<str>>(entries: impl IntoIterator<Item = (K, V)>) -> String {
    let inner: Vec<String> = entries
        .into_iter()
        .map(|(k, v)| format!("{}: {}", quoted(k.as_ref()), quoted(v.as_ref())))
        .collect();
    format!("{{{}}}", inner.join(","))
}

/// A YAML boolean.
pub fn boolean(value: bool) -> String {
    value.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_double_quoted() {
        assert_eq!(quoted("custom-oidc"), r#""custom-oidc""#);
        assert_eq!(quoted(""), r#""""#);
    }

    #[test]
    fn quotes_backslashes_and_dollars_are_escaped() {
        assert_eq!(quoted(r#"a"b\c"#), r#""a\"b\\c""#);
        assert_eq!(quoted("${HOME}$x"), r#""\x24{HOME}\x24x""#);
    }

    #[test]
    fn control_characters_and_line_breaks_are_escaped() {
        assert_eq!(quoted("a\nb\r\tc\u{0}\u{1b}"), r#""a\nb\r\tc\x00\x1b""#);
        assert_eq!(
            quoted("\u{85}\u{2028}\u{2029}\u{feff}"),
            r#""\u0085\u2028\u2029\ufeff""#
        );
        assert!(!quoted("x\ny").contains('\n'));
    }

    #[test]
    fn non_ascii_text_is_escaped_so_any_locale_reads_it() {
        assert_eq!(quoted("Grüße 🔑"), r#""Gr\u00fc\u00dfe \U0001f511""#);
        assert!(quoted("日本語 é \u{85}").is_ascii());
    }

    #[test]
    fn lists_and_maps_use_flow_syntax() {
        assert_eq!(list(&["a", "b"]), r#"["a","b"]"#);
        assert_eq!(list::<&str>(&[]), "[]");
        assert_eq!(map::<&str, &str>([]), "{}");
        assert_eq!(
            map([("kc_idp_hint", "corp"), ("a", "b: c")]),
            r#"{"kc_idp_hint": "corp","a": "b: c"}"#
        );
    }
}
