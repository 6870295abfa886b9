//! `spec.provider`: the OIDC provider and the client OpenMetadata signs users in with.

// KubeSchema derives a private copy of each type, which `unreachable_pub` then reports.
#![allow(unreachable_pub)]

use std::collections::BTreeMap;

use kube::KubeSchema;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The OIDC provider and the OIDC client the server uses.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
#[x_kube(
    validation = Rule::new("self.clientType != 'Confidential' || has(self.credentialsSecretRef)")
        .message("a Confidential client needs spec.provider.credentialsSecretRef (its client secret)")
        .field_path(".credentialsSecretRef")
        .reason(Reason::FieldValueRequired),
    validation = Rule::new("has(self.clientId) || has(self.credentialsSecretRef)")
        .message("set spec.provider.clientId or spec.provider.credentialsSecretRef")
        .field_path(".clientId")
        .reason(Reason::FieldValueRequired),
    validation = Rule::new("!has(self.scopes) || 'openid' in self.scopes")
        .message("spec.provider.scopes must include openid (OpenMetadata signs users in with OpenID Connect)")
        .field_path(".scopes")
        .reason(Reason::FieldValueInvalid),
    validation = Rule::new("self.issuer.startsWith('https://') || (has(self.allowInsecureHttp) && self.allowInsecureHttp)")
        .message("spec.provider.issuer must be an https:// URL (set allowInsecureHttp: true for a test provider)")
        .field_path(".issuer")
        .reason(Reason::FieldValueInvalid),
)]
pub struct ProviderSpec {
    /// Name shown on the login button ("Sign In with {displayName} SSO"). Renders
    /// `CUSTOM_OIDC_AUTHENTICATION_PROVIDER_NAME`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 64))]
    pub display_name: Option<String>,
    /// Which client the server's confidential flow builds (`OIDC_TYPE`; not a label):
    /// `azure` builds pac4j's Azure AD client, which takes its discovery document from
    /// `https://login.microsoftonline.com/<tenant>/v2.0` (set `tenant`; `OIDC_DISCOVERY_URI` is then
    /// not used by the server); `google` builds the Google client, which adds
    /// `access_type=offline` to the login; anything else (default `custom-oidc`) the generic
    /// OpenID Connect client. `azure` and `google` are recognised in any case, as the server does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 64), regex(pattern = r"^\S(.*\S)?$"))]
    pub oidc_type: Option<String>,
    /// The Entra ID tenant for `oidcType: azure` (`OIDC_TENANT`): a tenant id, a domain, or
    /// `organizations`/`common` for multi-tenant apps. Required with `azure`; the server reads it
    /// only then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 256), regex(pattern = r"^[A-Za-z0-9.-]+$"))]
    pub tenant: Option<String>,
    /// The provider's issuer URL, exactly as its discovery document states it (for example
    /// `https://idp.example.com/realms/data`). Renders `AUTHENTICATION_AUTHORITY`.
    #[schemars(url, length(max = 2048))]
    pub issuer: String,
    /// Discovery document URL. Default: `<issuer>/.well-known/openid-configuration`. Renders
    /// `OIDC_DISCOVERY_URI`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(url, length(max = 2048))]
    pub discovery_url: Option<String>,
    /// The provider's JWKS URL, put first in the server's public key URLs. Default: the
    /// `jwks_uri` of the discovery document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(url, length(max = 2048))]
    pub jwks_url: Option<String>,
    /// `Public` (the browser runs the login, no secret) or `Confidential` (the server runs the
    /// authorization-code flow with a client secret).
    pub client_type: ClientType,
    /// The OIDC client id. May instead come from the credentials Secret; when both are set they
    /// must agree.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 512))]
    pub client_id: Option<String>,
    /// The user's Secret holding the client credentials. The operator reads it and never writes
    /// it; its values never appear in logs, Events, annotations or status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials_secret_ref: Option<CredentialsSecretRef>,
    /// Scopes requested at login (`OIDC_SCOPE`) and checked against the provider. Default:
    /// `[openid, email, profile]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(merge_strategy = ListMerge::Atomic)]
    #[schemars(
        length(min = 1, max = 32),
        inner(length(min = 1, max = 128), regex(pattern = r"^[!#-\[\]-~]+$"))
    )]
    pub scopes: Option<Vec<String>>,
    /// OAuth response type. Default: `id_token` for a Public client (`AUTHENTICATION_RESPONSE_TYPE`),
    /// `code` for a Confidential one (`OIDC_RESPONSE_TYPE`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_type: Option<ResponseType>,
    /// The redirect URI registered at the provider. Default: `<server.externalUrl>/callback`.
    /// Renders `AUTHENTICATION_CALLBACK_URL` (Public) or `OIDC_CALLBACK` (Confidential).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(url, length(max = 2048))]
    pub callback_url: Option<String>,
    /// More JWKS URLs the server trusts for incoming tokens, after the provider's and its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(merge_strategy = ListMerge::Atomic)]
    #[schemars(length(max = 16), inner(url, length(max = 2048)))]
    pub extra_public_key_urls: Option<Vec<String>>,
    /// Signature algorithm the server accepts on tokens (`AUTHENTICATION_TOKEN_VALIDATION_ALGORITHM`).
    /// Default: `RS256`, which is also what the server signs its own tokens with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_validation_algorithm: Option<TokenAlgorithm>,
    /// Client authentication at the token endpoint (`OIDC_CLIENT_AUTH_METHOD`). Default:
    /// `client_secret_post`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_authentication_method: Option<ClientAuthMethod>,
    /// Send a PKCE challenge in the Confidential flow (`OIDC_DISABLE_PKCE` is its negation).
    /// Default: false, as in OpenMetadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub use_pkce: Option<bool>,
    /// Send and check a nonce (`OIDC_USE_NONCE`). Default: true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub use_nonce: Option<bool>,
    /// Extra parameters of the login (authorization) request, for example `{kc_idp_hint: corp}`;
    /// at most five, the most the server reads. Rendered into `OIDC_CUSTOM_PARAMS` as the server
    /// expects them (`customParamKey1`/`customParamValue1`, ... in name order). They cannot replace
    /// `client_id`, `redirect_uri`, `state`, `nonce` or the PKCE parameters, which the server sets
    /// after them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("maxProperties" = 5))]
    pub custom_params: Option<BTreeMap<String, String>>,
    /// Tolerated clock skew in seconds for the Confidential flow (`OIDC_MAX_CLOCK_SKEW`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 3600))]
    pub max_clock_skew_seconds: Option<i64>,
    /// Validity in seconds of the refresh token the server issues (`OIDC_OM_REFRESH_TOKEN_VALIDITY`).
    /// Default: 3600.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 60, max = 31536000))]
    pub token_validity_seconds: Option<i64>,
    /// `max_age` sent to the provider (`OIDC_MAX_AGE`), in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 31536000))]
    pub max_age_seconds: Option<i64>,
    /// `prompt` sent to the provider (`OIDC_PROMPT_TYPE`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt: Option<Prompt>,
    /// Session lifetime in seconds (`AUTHENTICATION_SESSION_EXPIRY`, OpenMetadata 2.0 and later;
    /// at least 3600).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 3600, max = 31536000))]
    pub session_expiry_seconds: Option<i64>,
    /// Trust this CA bundle (PEM) for the provider's TLS, in addition to the system roots.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_bundle: Option<CaBundleRef>,
    /// What the operator checks at the provider before it rolls a workload onto a configuration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify: Option<VerifySpec>,
    /// Allow `http://` provider URLs. Only for test providers: tokens and secrets then cross the
    /// network in clear text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_insecure_http: Option<bool>,
}

/// How the OIDC client authenticates.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientType {
    /// The browser runs the login; no client secret.
    Public,
    /// The server runs the authorization-code flow with a client secret.
    Confidential,
}

// OAuth 2.0 response type. (A plain comment: on an optional field the type's doc would replace the field's in the CRD.)
#[derive(JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum ResponseType {
    /// Authorization code flow.
    #[serde(rename = "code")]
    Code,
    /// Implicit flow returning an ID token.
    #[serde(rename = "id_token")]
    IdToken,
}

// JWS algorithms OpenMetadata validates tokens with. (A plain comment: on an optional field the type's doc would replace the field's in the CRD.)
#[derive(JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum TokenAlgorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    RS256,
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    RS384,
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    RS512,
}

// Client authentication methods at the token endpoint. (A plain comment: on an optional field the type's doc would replace the field's in the CRD.)
#[derive(JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum ClientAuthMethod {
    /// HTTP Basic authentication with the client id and secret.
    ClientSecretBasic,
    /// Client id and secret in the form body.
    ClientSecretPost,
    /// A JWT signed with the client secret.
    ClientSecretJwt,
    /// A JWT signed with a private key.
    PrivateKeyJwt,
}

// OIDC `prompt` values (a plain comment: on an optional field the type's doc would replace the field's in the CRD).
#[derive(JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum Prompt {
    /// No interaction.
    None,
    /// Force re-authentication.
    Login,
    /// Ask for consent.
    Consent,
    /// Let the user pick an account.
    SelectAccount,
}

/// The user's Secret with the OIDC client credentials.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("!has(self.jsonKey) || (!has(self.clientIdKey) && !has(self.clientSecretKey))")
    .message("jsonKey excludes clientIdKey and clientSecretKey")
    .field_path(".jsonKey"))]
pub struct CredentialsSecretRef {
    /// Name of the Secret, in the resource's namespace.
    #[schemars(length(min = 1, max = 253), regex(pattern = super::OBJECT_NAME_PATTERN))]
    pub name: String,
    /// Key holding the client id. Default: `clientId`. When the key is absent, `spec.provider.clientId`
    /// is used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 253), regex(pattern = super::DATA_KEY_PATTERN))]
    pub client_id_key: Option<String>,
    /// Key holding the client secret. Default: `clientSecret`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 253), regex(pattern = super::DATA_KEY_PATTERN))]
    pub client_secret_key: Option<String>,
    /// Key holding the provider's JSON credentials document instead: flat
    /// `{"client_id": ..., "client_secret": ...}` or nested under `web` or `installed`
    /// (Google style).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 253), regex(pattern = super::DATA_KEY_PATTERN))]
    pub json_key: Option<String>,
}

/// A PEM CA bundle in a ConfigMap or a Secret of the resource's namespace.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("has(self.configMapRef) != has(self.secretRef)")
    .message("set exactly one of configMapRef and secretRef"))]
pub struct CaBundleRef {
    /// ConfigMap key holding the PEM bundle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_map_ref: Option<KeyRef>,
    /// Secret key holding the PEM bundle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<KeyRef>,
}

/// One key of a ConfigMap or Secret in the resource's namespace.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct KeyRef {
    /// Name of the object.
    #[schemars(length(min = 1, max = 253), regex(pattern = super::OBJECT_NAME_PATTERN))]
    pub name: String,
    /// Key in its data.
    #[schemars(length(min = 1, max = 253), regex(pattern = super::DATA_KEY_PATTERN))]
    pub key: String,
}

/// Checks made at the provider before a configuration is rolled out.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("!has(self.clientCredentials) || !has(self.credentials)")
    .message("clientCredentials is the older spelling of credentials.method: set only credentials")
    .field_path(".clientCredentials"))]
pub struct VerifySpec {
    /// Fetch the discovery document and JWKS and check issuer, endpoints, keys, scopes and
    /// response type. Default: true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discovery: Option<bool>,
    /// How the client secret is proved at the provider. Default for a Confidential client:
    /// `{method: Auto}`; a Public client's is not checked unless a method is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials: Option<CredentialsCheckSpec>,
    /// Deprecated: `true` is `credentials: {method: ClientCredentials}`, `false` is
    /// `credentials: {method: Disabled}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_credentials: Option<bool>,
    /// Request the provider's authorization endpoint as the server's login will (client id,
    /// callback URL, response type, scopes, PKCE, custom parameters), without following it to a
    /// user, and hold a rollout the provider would refuse (an unregistered callback URL, most
    /// often). Default: true for a Confidential client, false for a Public one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login_redirect: Option<bool>,
}

/// How the client secret is proved (`spec.provider.verify.credentials`).
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct CredentialsCheckSpec {
    /// `Auto` (default) tries, in order, the endpoints discovery names that authenticate the
    /// client without any grant (`introspection_endpoint`, then `revocation_endpoint`), then the
    /// token endpoint: a client-credentials grant when `scopes`, `audience` or `resource` is set,
    /// otherwise an authorization-code request with a code the provider never issued (a login
    /// client may always use that grant; the provider answers `invalid_grant` to the right secret
    /// and rejects a wrong one). Every answer is compared with the answer to a deliberately wrong
    /// secret, so an endpoint that does not authenticate the client proves nothing. `Disabled` skips
    /// the check; the other values use that one method only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<CredentialsMethod>,
    /// `scope` of the client-credentials grant: Entra ID `api://<app>/.default`, an Okta custom
    /// scope, a Cognito resource-server scope.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(merge_strategy = ListMerge::Atomic)]
    #[schemars(
        length(min = 1, max = 16),
        inner(length(min = 1, max = 256), regex(pattern = r"^[!#-\[\]-~]+$"))
    )]
    pub scopes: Option<Vec<String>>,
    /// `audience` of the client-credentials grant (Auth0: the API identifier).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 512), regex(pattern = r"^[!-~]+$"))]
    pub audience: Option<String>,
    /// `resource` of the client-credentials grant (RFC 8707 resource indicator).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 2048), regex(pattern = r"^[!-~]+$"))]
    pub resource: Option<String>,
}

// How the client secret is proved. (A plain comment: on an optional field the type's doc would replace the field's in the CRD.)
#[derive(JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum CredentialsMethod {
    /// Introspection and revocation endpoints, then the token endpoint.
    Auto,
    /// RFC 7662 introspection of a made-up token.
    Introspection,
    /// RFC 7009 revocation of a made-up token.
    Revocation,
    /// An authorization-code request with a made-up code.
    AuthorizationCode,
    /// A client-credentials grant (with `scopes`, `audience`, `resource`).
    ClientCredentials,
    /// No check. (Not `Off`: YAML 1.1 reads a bare `Off` as `false`.)
    Disabled,
}
