//! Whether a reconcile's rendering goes out: the one decision between the provider checks and the
//! writes, pure, so each case is a row of a table test.
//!
//! A rendering that changes what the pods consume goes out only once the provider checks pass: a
//! wrong secret or an unregistered callback must not reach the servers. With an unchanged
//! rendering an outage changes nothing on the workloads, so it is applied (a no-op) and the
//! resource does not look held. Without the provider the JWKS URL may be unknown and nothing new
//! can be rendered; what is deployed stays.

use crate::render::{RenderError, Rendered};

/// What became of the rendering.
#[derive(Debug)]
pub(crate) enum Decision {
    /// Write the owned Secrets and roll the targets to it.
    Apply(Box<Rendered>),
    /// Write nothing: the targets keep what they run until the checks pass.
    Held,
}

/// The decision for `rendered` when the provider checks `failed` (or not); `differs` says
/// whether a rendering changes what the owned Secrets hold. A rendering that fails with every
/// check passing is the user's to fix (the error).
pub(crate) fn decide(
    rendered: Result<Rendered, RenderError>,
    failed: bool,
    differs: impl FnOnce(&Rendered) -> bool,
) -> Result<Decision, RenderError> {
    match (rendered, failed) {
        (Ok(r), false) => Ok(Decision::Apply(Box::new(r))),
        (Ok(r), true) if !differs(&r) => Ok(Decision::Apply(Box::new(r))),
        (_, true) => Ok(Decision::Held),
        (Err(e), false) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::KeyMaterial;
    use crate::render::ProviderEndpoints;
    use crate::validate::tests::{confidential, creds, resource};

    fn rendering() -> Rendered {
        let config =
            crate::validate::validate(&resource(confidential()), &creds("om", "s")).expect("valid");
        let keys = KeyMaterial::generate(None).expect("keys");
        let endpoints = ProviderEndpoints {
            jwks_uri: Some("https://idp.example.com/jwks".into()),
            token_endpoint: None,
        };
        crate::render::render(&config, &keys, &endpoints).expect("renders")
    }

    fn unrenderable() -> Result<Rendered, RenderError> {
        let config =
            crate::validate::validate(&resource(confidential()), &creds("om", "s")).expect("valid");
        let keys = KeyMaterial::generate(None).expect("keys");
        // No JWKS URL: discovery found none and the spec gives none.
        crate::render::render(&config, &keys, &ProviderEndpoints::default())
    }

    #[derive(Debug, PartialEq)]
    enum Row {
        Apply,
        Held,
        Error,
    }

    fn row(d: Result<Decision, RenderError>) -> Row {
        match d {
            Ok(Decision::Apply(_)) => Row::Apply,
            Ok(Decision::Held) => Row::Held,
            Err(_) => Row::Error,
        }
    }

    #[test]
    fn each_case_decides_as_documented() {
        assert!(
            unrenderable().is_err(),
            "the fixture cannot render without a JWKS URL"
        );
        // (renders, checks failed, differs from what is stored) → decision
        let table = [
            (true, false, true, Row::Apply),
            (true, false, false, Row::Apply),
            (true, true, true, Row::Held),
            (true, true, false, Row::Apply),
            (false, true, true, Row::Held),
            (false, false, true, Row::Error),
        ];
        for (renders, failed, differs, expected) in table {
            let rendered = if renders {
                Ok(rendering())
            } else {
                unrenderable()
            };
            let got = row(decide(rendered, failed, |_| differs));
            assert_eq!(
                got, expected,
                "renders {renders}, failed {failed}, differs {differs}"
            );
        }
    }
}
