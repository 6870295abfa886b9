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

/// The limit is Linux's: the longest value passes and a program still starts with it; one byte
/// more is refused, and the kernel refuses that string too (so the limit is neither too low nor
/// too high).
#[test]
fn a_value_longer_than_an_environment_string_is_refused_naming_the_variable() {
    let name = "AUTHENTICATION_PUBLIC_KEYS";
    let longest = MAX_ENV_STRING - name.len() - 2;
    for format in [EnvFormat::Dotenv, EnvFormat::Shell] {
        let fits = vec![b'k'; longest];
        assert!(encode(format, &[], &vars(&[(name, &fits)])).is_ok());
        let err = encode(format, &[], &vars(&[(name, &vec![b'k'; longest + 1])]))
            .expect_err("one byte too long");
        assert_eq!(
            err,
            EncodeError::TooLong {
                name: name.into(),
                bytes: longest + 1,
                limit: longest,
            }
        );
        assert!(err.to_string().starts_with(name), "{err}");
        assert!(!err.to_string().contains("kkkk"), "{err}");
    }
    let start = |len: usize| {
        std::process::Command::new("true")
            .env_clear()
            .env(name, "k".repeat(len))
            .status()
    };
    assert!(start(longest).is_ok_and(|s| s.success()));
    let too_long = start(longest + 1).expect_err("the kernel refuses it");
    assert_eq!(too_long.raw_os_error(), Some(7), "E2BIG: {too_long}");
}
