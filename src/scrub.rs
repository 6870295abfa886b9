//! One rule for text that reaches a person (a condition message, an Event, a log line, the
//! offline CLI's output): it never shows a value the operator sent to a provider, in any form a
//! server could echo it in. Pure.
//!
//! A hostile or merely chatty provider can repeat what it received: the client secret as it was
//! form-encoded in a POST body, the HTTP Basic credentials (base64 of `id:secret`), a client id
//! read from a Secret as it stood in a login URL's query. So a [`Scrubber`] knows each value sent
//! and cuts it out of text in every encoding a server could use: raw, percent-encoded (`+` and
//! `%20` for a space, upper- and lower-case hex, the unreserved characters of RFC 3986 and of
//! `encodeURIComponent` left alone or not), base64 and base64url with and without padding (of each
//! value, and of `id:secret` raw and form-encoded, as RFC 6749 2.3.1 builds Basic credentials),
//! JSON-escaped (`\/`, `\uXXXX` too) and HTML-escaped. What it cuts out is named, never shown
//! (`<client secret>`, `<the client id in Secret "oidc" (key "clientId")>`).
//!
//! A server could still use an encoding not in that list (a percent-encoding of its own choice
//! of characters, nested encodings). So after cutting, the text is decoded every way above
//! (percent, HTML entities, JSON escapes, and each over the other); if any reading still holds
//! a value, the text is withheld whole. Base64 of a value at an offset other than the start of
//! an encoded run (inside a longer base64 blob that is not `id:secret`) is not recognised: say so
//! wherever this is promised.
//!
//! Provider free text ([`Scrubber::provider_text`]) is also made printable and bounded.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// Values shorter than this are cut out only where they stand as a word
/// ([`Scrubber::hide_word`]): a two-letter value cut out of every word would leave no message
/// readable, and cannot be told from ordinary text anyway. Real client secrets are 32 to 64
/// characters; a client id may well be short.
pub const MIN_HIDDEN_EVERYWHERE: usize = 8;

/// The longest provider free text shown, in characters.
pub const MAX_PROVIDER_TEXT: usize = 200;

/// What replaces text that still holds a sent value after every known form was cut out.
pub const WITHHELD: &str =
    "<withheld: it repeats, in an encoding not recognised, a value sent to the provider>";

/// Private-use characters mark a cut while the text is checked again; they are taken out of the
/// input first, so a provider cannot forge a mark.
const MARK_BASE: u32 = 0xF0000;
const MARK_END: u32 = 0xFFFFD;

/// RFC 3986's unreserved characters besides letters and digits are left alone (`-._~`).
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');
/// JavaScript's `encodeURIComponent` also leaves `!*'()` alone.
const URI_COMPONENT: &AsciiSet = &UNRESERVED
    .remove(b'!')
    .remove(b'*')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')');
/// `application/x-www-form-urlencoded` as the WHATWG and Java's `URLEncoder` write it leaves
/// `*-._` alone.
const FORM: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'*')
    .remove(b'-')
    .remove(b'.')
    .remove(b'_');

/// The values sent to a provider, and how each is named where it is cut out.
#[derive(Clone, Debug, Default)]
pub struct Scrubber {
    /// How each hidden value is named, by index.
    placeholders: Vec<String>,
    /// The values hidden everywhere: what the decoded readings are checked for.
    values: Vec<String>,
    /// Every form of every value hidden everywhere, longest first, with its placeholder's index.
    forms: Vec<(String, usize)>,
    /// Every form of every value hidden as a word only ([`Scrubber::hide_word`]), longest first.
    words: Vec<(String, usize)>,
}

impl Scrubber {
    /// A scrubber that hides nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Hides `value` in every form, naming it `placeholder` (e.g. `<client secret>`); a value
    /// shorter than [`MIN_HIDDEN_EVERYWHERE`] as a word only.
    pub fn hide(mut self, value: &str, placeholder: &str) -> Self {
        if value.is_empty() {
            return self;
        }
        if value.chars().count() < MIN_HIDDEN_EVERYWHERE {
            return self.hide_word(value, placeholder);
        }
        let index = self.name(placeholder);
        self.values.push(value.to_owned());
        for form in forms(value) {
            self.forms.push((form, index));
        }
        self.sort();
        self
    }

    /// Hides `value` in every form where it stands as a word: not next to a letter, digit or `_`
    /// (a client id `om` is cut out of `client om` and `/om/`, not out of `example.com`). For text
    /// the operator wrote itself, where a short value would otherwise cut words apart; provider
    /// text gets [`Scrubber::hide`]. A value hidden as a word is not looked for in the decoded
    /// readings.
    pub fn hide_word(mut self, value: &str, placeholder: &str) -> Self {
        if value.is_empty() {
            return self;
        }
        let index = self.name(placeholder);
        for form in forms(value) {
            self.words.push((form, index));
        }
        self.words
            .sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.0.cmp(&b.0)));
        self.words.dedup();
        self
    }

    fn name(&mut self, placeholder: &str) -> usize {
        self.placeholders.push(placeholder.to_owned());
        self.placeholders.len() - 1
    }

    /// Hides the HTTP Basic credentials of `id` and `secret` (base64 of `id:secret`, the two
    /// form-encoded first as RFC 6749 2.3.1 says, or not, as some clients do).
    pub fn hide_basic(mut self, id: &str, secret: &str, placeholder: &str) -> Self {
        if secret.is_empty() {
            return self;
        }
        let index = self.name(placeholder);
        let form = |v: &str| url::form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>();
        let pairs = [
            format!("{id}:{secret}"),
            format!("{}:{}", form(id), form(secret)),
        ];
        self.values.push(pairs[0].clone());
        for pair in &pairs {
            for engine in [&STANDARD, &STANDARD_NO_PAD, &URL_SAFE, &URL_SAFE_NO_PAD] {
                self.forms.push((engine.encode(pair), index));
            }
        }
        self.sort();
        self
    }

    fn sort(&mut self) {
        self.forms
            .sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.0.cmp(&b.0)));
        self.forms.dedup();
    }

    /// `text` with every form of every hidden value replaced by its placeholder, and every URL's
    /// user name and password by `<credentials>`; withheld whole ([`WITHHELD`]) when a reading of
    /// it still holds a value.
    pub fn scrub(&self, text: &str) -> String {
        // URL credentials first: a placeholder put in their place would end the URL's authority.
        let mut marked: String = crate::urls::redacted_in(text)
            .chars()
            .filter(|c| !(MARK_BASE..=MARK_END).contains(&u32::from(*c)))
            .collect();
        for (form, index) in &self.forms {
            if marked.contains(form.as_str()) {
                marked = marked.replace(form.as_str(), &mark(*index).to_string());
            }
        }
        if self.still_holds_a_value(&marked) {
            return WITHHELD.to_owned();
        }
        for (form, index) in &self.words {
            marked = replace_words(&marked, form, mark(*index));
        }
        let mut out = String::with_capacity(marked.len());
        for c in marked.chars() {
            let code = u32::from(c);
            if (MARK_BASE..=MARK_END).contains(&code) {
                let placeholder = usize::try_from(code - MARK_BASE)
                    .ok()
                    .and_then(|i| self.placeholders.get(i))
                    .map_or("<redacted>", String::as_str);
                out.push_str(placeholder);
            } else {
                out.push(c);
            }
        }
        out
    }

    /// Provider free text (an `error`, an `error_description`, a page) as it may be shown:
    /// scrubbed, without control characters, at most [`MAX_PROVIDER_TEXT`] characters.
    pub fn provider_text(&self, text: &str) -> String {
        let printable: String = text.chars().filter(|c| !c.is_control()).collect();
        let clean = self.scrub(&printable);
        if clean.chars().count() > MAX_PROVIDER_TEXT {
            clean.chars().take(MAX_PROVIDER_TEXT).collect::<String>() + "…"
        } else {
            clean
        }
    }

    /// Whether some decoding of `marked` (cuts already made) shows a hidden value.
    fn still_holds_a_value(&self, marked: &str) -> bool {
        if self.values.is_empty() {
            return false;
        }
        readings(marked)
            .iter()
            .any(|r| self.values.iter().any(|v| r.contains(v.as_str())))
    }
}

/// `text` with each occurrence of `word` that no letter, digit or `_` touches replaced by `with`.
fn replace_words(text: &str, word: &str, with: char) -> String {
    let inside = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let mut before: Option<char> = None;
    while let Some(at) = rest.find(word) {
        let previous = rest[..at].chars().next_back().or(before);
        let after = rest[at + word.len()..].chars().next();
        out.push_str(&rest[..at]);
        if inside(previous) || inside(after) {
            out.push_str(word);
        } else {
            out.push(with);
        }
        before = word.chars().next_back();
        rest = &rest[at + word.len()..];
    }
    out.push_str(rest);
    out
}

fn mark(index: usize) -> char {
    u32::try_from(index)
        .ok()
        .and_then(|i| char::from_u32(MARK_BASE + i.min(MARK_END - MARK_BASE)))
        .unwrap_or('\u{FFFD}')
}

/// Every form of `value` a server could echo.
fn forms(value: &str) -> Vec<String> {
    let mut out = vec![value.to_owned()];
    let mut percent = Vec::new();
    for set in [NON_ALPHANUMERIC, UNRESERVED, URI_COMPONENT, FORM] {
        let encoded = utf8_percent_encode(value, set).to_string();
        percent.push(encoded.replace("%20", "+"));
        percent.push(encoded);
    }
    for p in percent {
        out.push(lower_hex(&p));
        out.push(p);
    }
    for engine in [&STANDARD, &STANDARD_NO_PAD, &URL_SAFE, &URL_SAFE_NO_PAD] {
        out.push(engine.encode(value));
    }
    let json = serde_json::to_string(value).unwrap_or_default();
    let json = json.trim_matches('"').to_owned();
    out.push(json.replace('/', "\\/"));
    out.push(ascii_json(&json));
    out.push(json);
    out.extend(html_forms(value));
    out.retain(|f| !f.is_empty());
    out.sort();
    out.dedup();
    out
}

/// `%2F` as `%2f`.
fn lower_hex(encoded: &str) -> String {
    let mut out = String::with_capacity(encoded.len());
    let mut hex_left = 0;
    for c in encoded.chars() {
        if c == '%' {
            hex_left = 2;
            out.push(c);
        } else if hex_left > 0 {
            hex_left -= 1;
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// A JSON string body with every non-ASCII character as `\uXXXX` (Python's `json.dumps`).
fn ascii_json(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    out
}

/// HTML escapes of `&<>"'`, each quote in its usual spellings.
fn html_forms(value: &str) -> Vec<String> {
    let base = value
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    let mut out = Vec::new();
    for quote in ["&quot;", "&#34;", "&#x22;"] {
        for apostrophe in ["&#39;", "&#x27;", "&apos;", "'"] {
            out.push(base.replace('"', quote).replace('\'', apostrophe));
        }
    }
    out
}

/// `text` read every way a server could have encoded it: as it is, percent-decoded (with and
/// without `+` as a space), HTML-unescaped, JSON-unescaped, and each decoding over the others.
fn readings(text: &str) -> Vec<String> {
    let decoders: [fn(&str) -> String; 4] = [
        percent_decoded,
        form_decoded,
        html_unescaped,
        json_unescaped,
    ];
    let mut seen = vec![text.to_owned()];
    let mut frontier = vec![text.to_owned()];
    // Two rounds: an encoding inside another (percent-encoded JSON, HTML-escaped form values).
    for _ in 0..2 {
        let mut next = Vec::new();
        for t in &frontier {
            for decode in decoders {
                let d = decode(t);
                if !seen.contains(&d) {
                    seen.push(d.clone());
                    next.push(d);
                }
            }
        }
        frontier = next;
    }
    seen
}

fn percent_decoded(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .into_owned()
}

fn form_decoded(text: &str) -> String {
    percent_decoded(&text.replace('+', " "))
}

fn html_unescaped(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let entity = rest
            .find(';')
            .filter(|&end| end <= 10)
            .map(|end| &rest[1..end]);
        let decoded = entity.and_then(|e| match e {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => e
                .strip_prefix("#x")
                .or_else(|| e.strip_prefix("#X"))
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .or_else(|| e.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        });
        match (entity, decoded) {
            (Some(e), Some(c)) => {
                out.push(c);
                rest = &rest[e.len() + 2..];
            }
            _ => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn json_unescaped(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    let mut pending_high: Option<u32> = None;
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('u') => {
                let hex: String = chars.by_ref().take(4).collect();
                let Ok(unit) = u32::from_str_radix(&hex, 16) else {
                    out.push_str("\\u");
                    out.push_str(&hex);
                    continue;
                };
                match (pending_high.take(), unit) {
                    (None, 0xD800..=0xDBFF) => pending_high = Some(unit),
                    (Some(high), 0xDC00..=0xDFFF) => {
                        let c = 0x10000 + ((high - 0xD800) << 10) + (unit - 0xDC00);
                        out.extend(char::from_u32(c));
                    }
                    (_, unit) => out.extend(char::from_u32(unit)),
                }
            }
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('b') => out.push('\u{8}'),
            Some('f') => out.push('\u{c}'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

#[cfg(test)]
mod tests;
