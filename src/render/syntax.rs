//! The value syntax OpenMetadata's config loader parses.
//!
//! The server pastes each environment variable's text into `openmetadata.yaml` where
//! `${VAR:-default}` stands, then parses the YAML (Dropwizard's substitution, openmetadata-auth.md
//! §2.7). So every value must be a YAML flow scalar, list or map on one line, and a string must
//! be quoted so that no character can change the document's structure.
//!
//! Strings are YAML double-quoted scalars. Besides `"` and `\`, these characters are escaped:
//! - control characters, line and paragraph separators, NEL and BOM: the parser would fold or
//!   reject them, and a raw newline would end the line;
//! - `$`, written `\x24`: the substitution runs again on substituted text (commons-text
//!   `StringSubstitutor` is recursive), and the ingestion client runs `os.path.expandvars` on its
//!   config file, so a literal `${X}` or `$HOME` inside a secret would be replaced. The YAML
//!   parser turns `\x24` back into `$` after substitution has run.
//!
//! Everything else, including non-ASCII text, is written as is (YAML files are UTF-8).

use std::collections::BTreeMap;
use std::fmt::Write as _;

/// A YAML double-quoted scalar holding exactly `value`.
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
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            // C1 controls (NEL among them), line/paragraph separators, BOM, and non-characters.
            c if ('\u{80}'..='\u{9f}').contains(&c)
                || matches!(
                    c,
                    '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}'
                ) =>
            {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
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

/// A YAML flow mapping of quoted strings: `{"k": "v"}`; `{}` when empty (an empty value would
/// parse as null, which breaks `OIDC_CUSTOM_PARAMS`, chart issues #229/#245). The space after
/// `:` is required by YAML 1.1 parsers (SnakeYAML 1.x), which do not accept JSON's `"k":"v"`.
pub fn map(entries: &BTreeMap<String, String>) -> String {
    let inner: Vec<String> = entries
        .iter()
        .map(|(k, v)| format!("{}: {}", quoted(k), quoted(v)))
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
    fn unicode_text_is_kept() {
        assert_eq!(quoted("Grüße 🔑"), "\"Grüße 🔑\"");
    }

    #[test]
    fn lists_and_maps_use_flow_syntax() {
        assert_eq!(list(&["a", "b"]), r#"["a","b"]"#);
        assert_eq!(list::<&str>(&[]), "[]");
        let mut m = BTreeMap::new();
        assert_eq!(map(&m), "{}");
        m.insert("kc_idp_hint".to_string(), "corp".to_string());
        m.insert("a".to_string(), "b: c".to_string());
        assert_eq!(map(&m), r#"{"a": "b: c","kc_idp_hint": "corp"}"#);
    }
}
