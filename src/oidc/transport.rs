//! The HTTP client the checks use: reqwest (rustls) with the request's trust roots, timeouts and
//! redirect rule, adapted to openidconnect's `AsyncHttpClient` so that openidconnect's own JWKS
//! fetch and token request run over it.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use openidconnect::{AsyncHttpClient, HttpRequest, HttpResponse};
use reqwest::redirect;

use super::policy::{AddressPolicy, Refusal};

/// Responses larger than this are refused: a discovery document or a JWKS is a few kilobytes (the
/// largest seen, Entra ID's JWKS with certificate chains, about 20 KiB), and a URL pointing at a
/// large file, by mistake or on purpose, must not make the operator buffer it.
pub const MAX_RESPONSE_BYTES: usize = 256 * 1024;

/// Same-origin redirects are followed at most this many times.
const MAX_REDIRECTS: usize = 5;

/// Which certificate authorities the checks trust.
#[derive(Clone, PartialEq, Eq)]
pub enum Trust {
    /// The system's roots (on Linux: the OpenSSL-style bundle found through `SSL_CERT_FILE` /
    /// `SSL_CERT_DIR` or the distribution's default paths, via rustls-platform-verifier). They
    /// are loaded each time a fetch starts, so a changed trust store is seen without a restart.
    SystemRoots,
    /// A PEM bundle (one or more `CERTIFICATE` blocks), alone or added to the system roots.
    CaBundle {
        /// The PEM text.
        pem: Vec<u8>,
        /// Also trust the system roots. `false` trusts the bundle's CAs only, so a certificate
        /// from any other CA (public ones included) is refused; `true` trusts both, for a
        /// provider whose certificate may move between a private and a public CA.
        also_system_roots: bool,
    },
}

impl std::fmt::Debug for Trust {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Trust::SystemRoots => f.write_str("SystemRoots"),
            Trust::CaBundle {
                pem,
                also_system_roots,
            } => f
                .debug_struct("CaBundle")
                .field("pem_bytes", &pem.len())
                .field("also_system_roots", also_system_roots)
                .finish(),
        }
    }
}

/// Timeouts for each HTTP request of a check (a check makes two or three).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    /// TCP connect plus TLS handshake.
    pub connect: Duration,
    /// The whole request, from sending to the last body byte.
    pub request: Duration,
}

impl Default for Timeouts {
    /// Short enough that a reconcile is not held up for long by a dead provider, long enough for
    /// a provider on another continent.
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(5),
            request: Duration::from_secs(10),
        }
    }
}

/// A failed HTTP exchange. Never carries request bodies or headers (the token request holds the
/// client secret), and reqwest errors are stripped of their URL (the message names it anyway).
#[derive(Debug, thiserror::Error)]
pub(crate) enum HttpError {
    /// openidconnect built a request reqwest cannot send.
    #[error("cannot build the request")]
    Build(#[source] reqwest::Error),
    /// The request failed before a complete response arrived.
    #[error("request failed")]
    Send(#[source] reqwest::Error),
    /// A redirect the policy did not follow.
    #[error("HTTP {status} to {location}")]
    Redirect {
        /// The redirect status.
        status: u16,
        /// Scheme, host and port of the `Location` (no path: it could carry anything).
        location: String,
    },
    /// The response could not be turned into an `http::Response`.
    #[error("malformed response")]
    Malformed,
    /// The body exceeds [`MAX_RESPONSE_BYTES`].
    #[error("more than {limit} bytes")]
    TooLarge {
        /// The limit.
        limit: usize,
    },
    /// The address policy refuses the URL's IP address.
    #[error(transparent)]
    Refused(#[from] Refusal),
}

/// Why the HTTP client could not be built: the trust roots are unusable.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TrustError {
    /// The configured CA bundle holds no usable certificate.
    #[error("{0}")]
    CaBundle(String),
    /// The system trust roots could not be loaded.
    #[error("{0}")]
    System(String),
}

/// reqwest behind openidconnect's client trait, counting the requests it sends.
#[derive(Clone, Debug)]
pub(super) struct HttpClient {
    client: reqwest::Client,
    requests: Arc<AtomicU64>,
    policy: Arc<AddressPolicy>,
    /// Login pages: redirects are returned, not followed, and a body is cut at
    /// [`MAX_RESPONSE_BYTES`] instead of refused (only its first part is ever looked at).
    pages: bool,
}

impl HttpClient {
    /// Builds a client that trusts exactly what `trust` says, enforces `timeouts`, and follows
    /// redirects only within the same origin (scheme, host and port).
    ///
    /// Redirects to another origin are refused rather than followed: the configured issuer is
    /// what users trust, and silently following it elsewhere (or from https to http) would verify
    /// a different provider than the one the settings name.
    pub(super) fn new(
        trust: &Trust,
        timeouts: &Timeouts,
        requests: Arc<AtomicU64>,
        policy: Arc<AddressPolicy>,
    ) -> Result<Self, TrustError> {
        Self::build(trust, timeouts, requests, policy, false)
    }

    /// A client for login pages: it returns redirects instead of following them (the check
    /// judges where they point) and reads at most [`MAX_RESPONSE_BYTES`] of a body.
    pub(super) fn for_pages(
        trust: &Trust,
        timeouts: &Timeouts,
        requests: Arc<AtomicU64>,
        policy: Arc<AddressPolicy>,
    ) -> Result<Self, TrustError> {
        Self::build(trust, timeouts, requests, policy, true)
    }

    fn build(
        trust: &Trust,
        timeouts: &Timeouts,
        requests: Arc<AtomicU64>,
        policy: Arc<AddressPolicy>,
        pages: bool,
    ) -> Result<Self, TrustError> {
        let redirects = if pages {
            redirect::Policy::none()
        } else {
            same_origin_policy()
        };
        let mut builder = reqwest::Client::builder()
            .connect_timeout(timeouts.connect)
            .timeout(timeouts.request)
            .redirect(redirects)
            // A proxy from the environment (HTTPS_PROXY, HTTP_PROXY, ALL_PROXY) would get the
            // provider's host name and resolve it itself, out of the address policy's sight: the
            // checks connect to the provider directly or not at all (docs/security.md).
            .no_proxy()
            .dns_resolver(Arc::new(PolicyResolver(policy.clone())))
            .user_agent(crate::names::USER_AGENT);
        if let Trust::CaBundle {
            pem,
            also_system_roots,
        } = trust
        {
            let certs = reqwest::Certificate::from_pem_bundle(pem)
                .map_err(|e| TrustError::CaBundle(format!("not a PEM bundle ({e})")))?;
            if certs.is_empty() {
                return Err(TrustError::CaBundle(
                    "no PEM CERTIFICATE block found".into(),
                ));
            }
            builder = if *also_system_roots {
                builder.tls_certs_merge(certs)
            } else {
                builder.tls_certs_only(certs)
            };
        }
        let client = builder.build().map_err(|e| match trust {
            // With a bundle, the usual cause is a certificate block that is not valid DER.
            Trust::CaBundle { .. } => TrustError::CaBundle(format!(
                "cannot build the trust store ({})",
                error_chain(&e)
            )),
            Trust::SystemRoots => TrustError::System(format!(
                "cannot load the system trust roots ({})",
                error_chain(&e)
            )),
        })?;
        Ok(Self {
            client,
            requests,
            policy,
            pages,
        })
    }

    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, HttpError> {
        let request =
            reqwest::Request::try_from(request).map_err(|e| HttpError::Build(e.without_url()))?;
        // A host written as an address is never resolved, so the resolver cannot check it.
        let literal = match request.url().host() {
            Some(url::Host::Ipv4(ip)) => Some(std::net::IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => Some(std::net::IpAddr::V6(ip)),
            _ => None,
        };
        if let Some(ip) = literal {
            self.policy.check(ip)?;
        }
        self.requests.fetch_add(1, Ordering::Relaxed);
        let mut response = self
            .client
            .execute(request)
            .await
            .map_err(|e| HttpError::Send(e.without_url()))?;
        let status = response.status();
        if status.is_redirection()
            && !self.pages
            && let Some(location) = response.headers().get(reqwest::header::LOCATION)
        {
            let location = location
                .to_str()
                .ok()
                .and_then(|l| response.url().join(l).ok())
                .map(|u| u.origin().ascii_serialization())
                .unwrap_or_else(|| "an unparseable location".into());
            return Err(HttpError::Redirect {
                status: status.as_u16(),
                location,
            });
        }
        if !self.pages
            && response
                .content_length()
                .is_some_and(|len| len > MAX_RESPONSE_BYTES as u64)
        {
            return Err(HttpError::TooLarge {
                limit: MAX_RESPONSE_BYTES,
            });
        }
        let mut builder = openidconnect::http::Response::builder().status(status);
        if let Some(headers) = builder.headers_mut() {
            headers.extend(
                response
                    .headers()
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone())),
            );
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| HttpError::Send(e.without_url()))?
        {
            if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
                if self.pages {
                    body.extend_from_slice(&chunk[..MAX_RESPONSE_BYTES - body.len()]);
                    break;
                }
                return Err(HttpError::TooLarge {
                    limit: MAX_RESPONSE_BYTES,
                });
            }
            body.extend_from_slice(&chunk);
        }
        // Status and headers come from a response hyper already validated, so this should not
        // fail; map it anyway rather than panic on network data.
        builder.body(body).map_err(|_| HttpError::Malformed)
    }
}

impl<'c> AsyncHttpClient<'c> for HttpClient {
    type Error = HttpError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, HttpError>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(self.send(request))
    }
}

/// The system resolver, keeping only the addresses the policy allows: a name that resolves to a
/// refused address alone fails with the refusal, so the message says why.
struct PolicyResolver(Arc<AddressPolicy>);

impl reqwest::dns::Resolve for PolicyResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.0.clone();
        let host = name.as_str().to_string();
        Box::pin(async move {
            let resolved: Vec<std::net::SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let mut refusal = None;
            let allowed: Vec<std::net::SocketAddr> = resolved
                .into_iter()
                .filter(|a| match policy.check(a.ip()) {
                    Ok(()) => true,
                    Err(r) => {
                        refusal.get_or_insert(r);
                        false
                    }
                })
                .collect();
            match (allowed.is_empty(), refusal) {
                (true, Some(r)) => Err(Box::new(r) as Box<dyn std::error::Error + Send + Sync>),
                _ => Ok(Box::new(allowed.into_iter()) as reqwest::dns::Addrs),
            }
        })
    }
}

fn same_origin_policy() -> redirect::Policy {
    redirect::Policy::custom(|attempt| {
        let same_origin = attempt
            .previous()
            .first()
            .is_some_and(|first| first.origin() == attempt.url().origin());
        if same_origin && attempt.previous().len() <= MAX_REDIRECTS {
            attempt.follow()
        } else {
            attempt.stop()
        }
    })
}

fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![err.to_string()];
    let mut current = err.source();
    while let Some(e) = current {
        parts.push(e.to_string());
        current = e.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oidc::classify::classify;
    use crate::oidc::kinds::TransportKind;

    fn client(trust: &Trust) -> Result<HttpClient, TrustError> {
        let loopback = AddressPolicy {
            allowed: vec!["127.0.0.1".parse().expect("network")],
        };
        HttpClient::new(
            trust,
            &Timeouts::default(),
            Arc::default(),
            Arc::new(loopback),
        )
    }

    #[tokio::test]
    async fn refused_connection_is_classified_as_connect() {
        // Bind and drop: the port is then (almost certainly) closed.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let client = client(&Trust::SystemRoots).unwrap();
        let request = openidconnect::http::Request::get(format!("http://127.0.0.1:{port}/"))
            .body(Vec::new())
            .unwrap();
        let err = client.call(request).await.unwrap_err();
        let (kind, detail) = classify(&err);
        assert_eq!(kind, TransportKind::Connect, "{detail}");
        assert!(detail.to_lowercase().contains("refused"), "{detail}");
    }

    #[test]
    fn unusable_ca_bundles_are_rejected() {
        let not_pem = Trust::CaBundle {
            pem: b"hello".to_vec(),
            also_system_roots: false,
        };
        assert!(matches!(client(&not_pem), Err(TrustError::CaBundle(_))));
        let bad_der = Trust::CaBundle {
            pem: b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n".to_vec(),
            also_system_roots: false,
        };
        assert!(matches!(client(&bad_der), Err(TrustError::CaBundle(_))));
    }
}

#[cfg(test)]
mod policy_tests {
    use super::*;
    use crate::oidc::classify::classify;
    use crate::oidc::kinds::TransportKind;

    /// No connection is attempted: the refusal comes before any packet is sent.
    #[tokio::test]
    async fn refused_addresses_are_never_contacted() {
        let client = HttpClient::new(
            &Trust::SystemRoots,
            &Timeouts::default(),
            Arc::default(),
            Arc::new(AddressPolicy::default()),
        )
        .expect("client");
        for url in [
            "http://169.254.169.254/latest/meta-data/",
            "http://[fd00:ec2::254]/",
            "http://127.0.0.1:1/",
            "http://localhost:1/",
        ] {
            let request = openidconnect::http::Request::get(url)
                .body(Vec::new())
                .expect("request");
            let err = client.call(request).await.expect_err(url);
            let (kind, detail) = classify(&err);
            assert_eq!(kind, TransportKind::Refused, "{url}: {detail}");
            assert!(detail.contains("address policy"), "{url}: {detail}");
        }
    }
}
