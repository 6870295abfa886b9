//! Plain HTTP as the provider checks send it: form posts with the client's credentials in one of
//! the ways OAuth allows, answers read whatever their content type, no redirect followed.

use reqwest::StatusCode;

/// An answer, whatever its content type.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub text: String,
    pub location: Option<String>,
}

/// Reads `resp` whole; the Location header kept for redirects.
pub async fn answer(resp: reqwest::Response) -> Answer {
    let status = resp.status();
    let location = resp
        .headers()
        .get(reqwest::header::LOCATION)
        .map(|v| v.to_str().expect("an ASCII Location").to_owned());
    Answer {
        status,
        text: resp.text().await.expect("the answer's body"),
        location,
    }
}

/// Client credentials for a form post: HTTP Basic, in the body, or none.
#[derive(Clone, Copy)]
pub enum Auth<'a> {
    Basic(&'a str, &'a str),
    Post(&'a str, &'a str),
    None,
}

/// `POST url` with `form` and the client's credentials as `auth` says.
pub async fn post(c: &reqwest::Client, url: &str, auth: Auth<'_>, form: &[(&str, &str)]) -> Answer {
    let mut fields: Vec<(&str, &str)> = form.to_vec();
    let mut req = c.post(url);
    match auth {
        Auth::Basic(id, secret) => req = req.basic_auth(id, Some(secret)),
        Auth::Post(id, secret) => fields.extend([("client_id", id), ("client_secret", secret)]),
        Auth::None => {}
    }
    let req = req
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form_body(&fields));
    answer(req.send().await.expect("the POST is answered")).await
}

/// `application/x-www-form-urlencoded` text of `pairs`.
pub fn form_body(pairs: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}
