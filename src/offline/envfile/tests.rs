use super::*;

fn vars(pairs: &[(&str, &[u8])]) -> BTreeMap<String, Vec<u8>> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_string(), v.to_vec()))
        .collect()
}

#[test]
fn plain_and_yaml_quoted_values_are_single_quoted_in_dotenv() {
    assert_eq!(dotenv_value(r#""custom-oidc""#), r#"'"custom-oidc"'"#);
    assert_eq!(dotenv_value("a $b ${c} # d"), "'a $b ${c} # d'");
    assert_eq!(dotenv_value(""), "''");
}

#[test]
fn quotes_and_backslashes_switch_dotenv_to_escaped_double_quotes() {
    assert_eq!(dotenv_value(r#"it's"#), r#""it's""#);
    assert_eq!(dotenv_value(r#"\x24"#), r#""\\x24""#);
    assert_eq!(dotenv_value("a\\\"$b\n\r${c}'"), r#""a\\\"$$b\n\r$${c}'""#);
}

#[test]
fn shell_values_are_single_quoted_with_quotes_spliced() {
    assert_eq!(shell_value("it's $x"), r"'it'\''s $x'");
    assert_eq!(shell_value("a\nb\\"), "'a\nb\\'");
}

#[test]
fn a_nul_byte_is_refused_naming_the_variable_and_not_the_value() {
    for format in [EnvFormat::Dotenv, EnvFormat::Shell] {
        let err = encode(
            format,
            &[],
            &vars(&[("OIDC_CLIENT_SECRET", b"hunter\0two")]),
        )
        .expect_err("refused");
        assert_eq!(
            err,
            EncodeError::Nul {
                name: "OIDC_CLIENT_SECRET".into()
            }
        );
        assert!(!err.to_string().contains("hunter"), "{err}");
    }
}

#[test]
fn bytes_that_are_not_text_and_odd_names_are_refused() {
    let err = encode(EnvFormat::Dotenv, &[], &vars(&[("A", b"\xff")])).expect_err("refused");
    assert!(matches!(err, EncodeError::NotUtf8 { .. }), "{err}");
    for name in ["1A", "A-B", "A.B", ""] {
        let err = encode(EnvFormat::Shell, &[], &vars(&[(name, b"x")])).expect_err(name);
        assert!(matches!(err, EncodeError::Name { .. }), "{err}");
    }
}

#[test]
fn files_have_a_header_and_one_line_per_variable_in_name_order() {
    let v = vars(&[("B", b"2"), ("A", b"1")]);
    let header = ["made by a test".to_string()];
    assert_eq!(
        encode(EnvFormat::Dotenv, &header, &v).unwrap(),
        "# made by a test\nA='1'\nB='2'\n"
    );
    assert_eq!(
        encode(EnvFormat::Shell, &header, &v).unwrap(),
        "# shellcheck shell=sh\n# made by a test\nexport A='1'\nexport B='2'\n"
    );
}
