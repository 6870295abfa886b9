//! Fixtures shared by the unit tests of the discovery, evaluation and key modules.

use openidconnect::HttpResponse;
use openidconnect::http::header::CONTENT_TYPE;
use url::Url;

use super::discovery::{ProviderDocs, parse_discovery};

pub(crate) fn response(status: u16, body: &str) -> HttpResponse {
    openidconnect::http::Response::builder()
        .status(status)
        .header(CONTENT_TYPE, "application/json")
        .body(body.as_bytes().to_vec())
        .unwrap()
}

pub(crate) fn doc(issuer: &str) -> serde_json::Value {
    serde_json::json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/auth"),
        "token_endpoint": format!("{issuer}/token"),
        "jwks_uri": format!("{issuer}/jwks"),
        "response_types_supported": ["code", "id_token", "code id_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "scopes_supported": ["openid", "email", "profile"],
    })
}

pub(crate) fn url() -> Url {
    Url::parse("https://idp/.well-known/openid-configuration").unwrap()
}

pub(crate) fn docs_with_keys(keys: serde_json::Value) -> ProviderDocs {
    let (meta, extra) = parse_discovery(
        &url(),
        "https://idp",
        None,
        &response(200, &doc("https://idp").to_string()),
    )
    .unwrap();
    ProviderDocs {
        discovery_url: url(),
        metadata: meta,
        jwks_url: "https://idp/jwks".into(),
        jwks: serde_json::from_value(serde_json::json!({ "keys": keys })).unwrap(),
        extra,
        bytes: 0,
    }
}

pub(crate) fn rsa_key(extra: serde_json::Value) -> serde_json::Value {
    let mut key = serde_json::json!({"kty": "RSA", "kid": "k1", "n": "sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri23bOdgWp4Dy1WlUzewbgBHod5pcM9H95GQRV3JDXboIRROSBigeC5yjU1hGzHHyXss8UDprecbAYxknTcQkhslANGRUZmdTOQ5qTRsLAt6BTYuyvVRdhS8exSZEy_c4gs_7svlJJQ4H9_NxsiIoLwAEk7-Q3UXERGYw_75IDrGA84-lA_-Ct4eTlXHBIY2EaV7t7LjJaynVJCpkv4LKjTTAumiGUIuQhrNhZLuF_RJLqHpM2kgWFLU7-VTdL1VbC2tejvcI2BlMkEpk1BzBZI0KQB0GaDWFLN-aEAw3vRw", "e": "AQAB"});
    if let (Some(k), Some(e)) = (key.as_object_mut(), extra.as_object()) {
        k.extend(e.clone());
    }
    key
}
