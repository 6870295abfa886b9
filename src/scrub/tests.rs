//! Every encoding a provider could echo a sent value in is cut out; the encodings are computed
//! here independently of the module (by hand or with another crate's encoder).

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};

use super::*;

/// Space, `+`, `/`, `=`, `&`, HTML's and JSON's special characters, non-ASCII: every encoding
/// differs from the raw value.
const SECRET: &str = "s3cr et+/=&<>\"'é~!*()\\x";
const ID: &str = "tenant-app 42/é";
const SECRET_PLACE: &str = "<client secret>";
const ID_PLACE: &str = "<the client id in Secret \"oidc\" (key \"clientId\")>";

fn scrubber() -> Scrubber {
    Scrubber::new()
        .hide(SECRET, SECRET_PLACE)
        .hide(ID, ID_PLACE)
        .hide_basic(ID, SECRET, "<client credentials>")
}

/// Percent-encodes every byte outside `keep` (besides ASCII letters and digits), by hand.
fn percent(value: &str, keep: &str, space: &str, lower: bool) -> String {
    let mut out = String::new();
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || keep.as_bytes().contains(&b) {
            out.push(char::from(b));
        } else if b == b' ' {
            out.push_str(space);
        } else if lower {
            out.push_str(&format!("%{b:02x}"));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn encodings(value: &str) -> Vec<(String, String)> {
    let mut out = vec![("raw".to_owned(), value.to_owned())];
    for (name, keep) in [
        ("all", ""),
        ("rfc3986", "-._~"),
        ("uri-component", "-._~!*'()"),
        ("form", "*-._"),
    ] {
        for (space_name, space) in [("+", "+"), ("%20", "%20")] {
            for lower in [false, true] {
                out.push((
                    format!("percent {name} space {space_name} lower {lower}"),
                    percent(value, keep, space, lower),
                ));
            }
        }
    }
    out.push((
        "form serializer".into(),
        url::form_urlencoded::byte_serialize(value.as_bytes()).collect(),
    ));
    for (name, engine) in [
        ("std", &STANDARD),
        ("std no pad", &STANDARD_NO_PAD),
        ("url", &URL_SAFE),
        ("url no pad", &URL_SAFE_NO_PAD),
    ] {
        out.push((format!("base64 {name}"), engine.encode(value)));
    }
    let json = serde_json::to_string(value).unwrap();
    let json = json.trim_matches('"');
    out.push(("json".into(), json.to_owned()));
    out.push(("json with \\/".into(), json.replace('/', "\\/")));
    let ascii: String = json
        .chars()
        .map(|c| {
            if c.is_ascii() {
                c.to_string()
            } else {
                c.encode_utf16(&mut [0; 2])
                    .iter()
                    .map(|u| format!("\\u{u:04x}"))
                    .collect()
            }
        })
        .collect();
    out.push(("json ascii".into(), ascii));
    let html = value
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    out.push((
        "html quot".into(),
        html.replace('"', "&quot;").replace('\'', "&#39;"),
    ));
    out.push((
        "html numeric".into(),
        html.replace('"', "&#34;").replace('\'', "&#x27;"),
    ));
    out
}

#[test]
fn every_encoding_of_every_sent_value_is_cut_out_and_named() {
    let s = scrubber();
    for (value, place) in [(SECRET, SECRET_PLACE), (ID, ID_PLACE)] {
        for (name, form) in encodings(value) {
            let text = format!("invalid_client: unknown client [{form}] (HTTP 401)");
            let clean = s.scrub(&text);
            assert!(!clean.contains(&form), "{name}: {clean}");
            assert!(clean.contains(place), "{name} is named: {clean}");
            assert!(
                clean.starts_with("invalid_client: unknown client ["),
                "{name}: {clean}"
            );
        }
    }
}

#[test]
fn basic_credentials_are_cut_out_raw_and_form_encoded() {
    let s = scrubber();
    let form = |v: &str| url::form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>();
    for pair in [
        format!("{ID}:{SECRET}"),
        format!("{}:{}", form(ID), form(SECRET)),
    ] {
        for engine in [&STANDARD, &STANDARD_NO_PAD, &URL_SAFE, &URL_SAFE_NO_PAD] {
            let header = format!("Authorization: Basic {}", engine.encode(&pair));
            let clean = s.scrub(&header);
            assert_eq!(clean, "Authorization: Basic <client credentials>");
        }
    }
}

#[test]
fn an_encoding_not_in_the_list_is_withheld_whole() {
    let s = scrubber();
    // Only the space and é percent-encoded, a mix no encoder above writes.
    let mixed = SECRET.replace(' ', "%20").replace('é', "%C3%A9");
    assert_eq!(s.scrub(&format!("echo: {mixed}")), WITHHELD);
    // Percent-encoded JSON: two encodings, one over the other.
    let json = serde_json::to_string(SECRET).unwrap();
    let nested = percent(&json, "", "%20", false);
    assert_eq!(s.scrub(&format!("echo: {nested}")), WITHHELD);
    // HTML entities by code point for every character.
    let entities: String = SECRET
        .chars()
        .map(|c| format!("&#{};", u32::from(c)))
        .collect();
    assert_eq!(s.scrub(&entities), WITHHELD);
}

#[test]
fn text_without_sent_values_is_left_as_it_is_but_for_url_credentials() {
    let s = scrubber();
    let text = "the token endpoint https://idp.example.com/token answered HTTP 401 invalid_client";
    assert_eq!(s.scrub(text), text);
    assert_eq!(
        s.scrub("discovery names https://svc:pw@idp.example.com/token"),
        "discovery names https://<credentials>@idp.example.com/token"
    );
    assert_eq!(Scrubber::new().scrub("anything 100%"), "anything 100%");
}

#[test]
fn a_provider_cannot_forge_a_placeholder_mark() {
    let s = scrubber();
    let forged = format!("a{}b", char::from_u32(MARK_BASE).unwrap());
    assert_eq!(s.scrub(&forged), "ab");
}

#[test]
fn provider_text_is_printable_bounded_and_scrubbed() {
    let s = scrubber();
    let text = format!("bad\nsecret {SECRET}\u{7}");
    assert_eq!(s.provider_text(&text), format!("badsecret {SECRET_PLACE}"));
    let long = s.provider_text(&"x".repeat(500));
    assert_eq!(long.chars().count(), MAX_PROVIDER_TEXT + 1);
    assert!(long.ends_with('…'));
}

/// A short client id in the operator's own wording: cut out where it stands as a word (a path
/// segment, a quoted name), left inside other words.
#[test]
fn a_value_hidden_as_a_word_leaves_other_words_whole() {
    let s = Scrubber::new().hide_word("om", "<the client id>");
    assert_eq!(
        s.scrub("https://idp.example.com/clients/om/callback for 'om' from custom"),
        "https://idp.example.com/clients/<the client id>/callback for '<the client id>' from custom"
    );
    assert_eq!(s.scrub("om"), "<the client id>");
    assert_eq!(s.scrub("omom om_x"), "omom om_x");
    // Encoded forms too, as words.
    let s = Scrubber::new().hide_word("a b", "<id>");
    assert_eq!(s.scrub("/a+b/ and a%20b."), "/<id>/ and <id>.");
}

/// A value too short to tell from ordinary text is cut out as a word only, everywhere else the
/// message stays whole (a test secret `s` left `discovery` alone).
#[test]
fn a_short_value_is_hidden_as_a_word_only() {
    let s = Scrubber::new().hide("s", "<client secret>");
    assert_eq!(
        s.scrub(
            "the discovery document names issuer \"https://idp/realms/other\"; secret s rejected"
        ),
        "the discovery document names issuer \"https://idp/realms/other\"; secret <client secret> rejected"
    );
}
