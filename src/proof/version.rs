//! Which OpenMetadata server a pod runs, and what that means for the settings we render: read
//! from its `GET /api/v1/system/version` (`{"version":"1.13.1","revision":…,"timestamp":…}`) or,
//! before it answers, from its image tag. Pure.
//!
//! The families (openmetadata-server-behaviour.md §1):
//! - up to 1.9: the server reads its authentication settings from the environment at every start;
//! - 1.10 to 2.0.x: it copies them into its database on the first start and then reads only the
//!   copy, so a changed `AUTHENTICATION_*`, `OIDC_*` or `AUTHORIZER_*` is ignored unless
//!   `remove-security-config --force` runs before the new pods start (1.10 is the first release
//!   with the copy as far as OpenMetadata's tracker shows; the doc rates that boundary medium);
//! - 2.1 and later: `SECURITY_CONFIG_SOURCE=ENV` makes the environment win at every start.

use std::fmt;

use serde_json::Value;

/// A release, `major.minor.patch`; a pre-release or build suffix is ignored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Release {
    /// Major.
    pub major: u32,
    /// Minor.
    pub minor: u32,
    /// Patch.
    pub patch: u32,
}

impl Release {
    /// `1.13.1`, `v1.13.1`, `2.1.0-SNAPSHOT`, `1.13.1-release`; `None` for anything else.
    pub fn parse(text: &str) -> Option<Self> {
        let core = text.trim().trim_start_matches('v');
        let core = core.split(['-', '+']).next()?;
        let mut parts = core.split('.').map(str::parse::<u32>);
        let release = Self {
            major: parts.next()?.ok()?,
            minor: parts.next()?.ok()?,
            patch: parts.next().unwrap_or(Ok(0)).ok()?,
        };
        parts.next().is_none().then_some(release)
    }

    /// The release a `GET /api/v1/system/version` body names.
    pub fn from_version_body(body: &[u8]) -> Option<Self> {
        let doc: Value = serde_json::from_slice(body).ok()?;
        Self::parse(doc.get("version")?.as_str()?)
    }

    /// The release an image reference's tag names (`…/openmetadata/server:1.13.1`); `None` for
    /// a digest without tag, `latest` or any other tag.
    pub fn from_image(image: &str) -> Option<Self> {
        let without_digest = image.split('@').next()?;
        let last = without_digest.rsplit('/').next()?;
        let (_, tag) = last.rsplit_once(':')?;
        Self::parse(tag)
    }

    /// What this release does with the authentication settings.
    pub fn family(self) -> Family {
        match (self.major, self.minor) {
            (0, _) | (1, 0..=9) => Family::ReadsEnvironment,
            (1, _) | (2, 0) => Family::CopiesToDatabase,
            _ => Family::ConfigSource,
        }
    }
}

impl fmt::Display for Release {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// What a server does with the authentication settings it is started with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    /// Up to 1.9: read from the environment at every start; a restart applies a change.
    ReadsEnvironment,
    /// 1.10 to 2.0.x: copied into the database on the first start, then only the copy is read; a
    /// change applies only after `remove-security-config --force` before the new pods start.
    CopiesToDatabase,
    /// 2.1 and later: `SECURITY_CONFIG_SOURCE=ENV` makes the environment win at every start.
    ConfigSource,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn releases_parse_from_versions_tags_and_bodies() {
        let r = |t| Release::parse(t);
        assert_eq!(
            r("1.13.1"),
            Some(Release {
                major: 1,
                minor: 13,
                patch: 1
            })
        );
        assert_eq!(
            r("v2.0.10"),
            Some(Release {
                major: 2,
                minor: 0,
                patch: 10
            })
        );
        assert_eq!(
            r("2.1.0-SNAPSHOT"),
            Some(Release {
                major: 2,
                minor: 1,
                patch: 0
            })
        );
        assert_eq!(
            r("1.9"),
            Some(Release {
                major: 1,
                minor: 9,
                patch: 0
            })
        );
        for bad in ["latest", "", "1", "1.x.0", "1.2.3.4"] {
            assert_eq!(r(bad), None, "{bad}");
        }
        assert_eq!(
            Release::from_version_body(br#"{"version":"1.13.1","revision":"abc","timestamp":1}"#),
            r("1.13.1")
        );
        assert_eq!(Release::from_version_body(b"<html>"), None);
        assert_eq!(
            Release::from_image("docker.getcollate.io/openmetadata/server:1.13.1"),
            r("1.13.1")
        );
        assert_eq!(
            Release::from_image("registry:5000/om/server:2.0.7-release"),
            r("2.0.7")
        );
        assert_eq!(Release::from_image("openmetadata/server@sha256:abcd"), None);
        assert_eq!(Release::from_image("openmetadata/server:latest"), None);
        assert_eq!(Release::from_image("localhost:5000/server"), None);
    }

    #[test]
    fn each_release_line_has_its_family() {
        let f = |t| Release::parse(t).map(Release::family);
        assert_eq!(f("1.9.12"), Some(Family::ReadsEnvironment));
        assert_eq!(f("1.10.0"), Some(Family::CopiesToDatabase));
        assert_eq!(f("1.13.1"), Some(Family::CopiesToDatabase));
        assert_eq!(f("2.0.10"), Some(Family::CopiesToDatabase));
        assert_eq!(f("2.1.0"), Some(Family::ConfigSource));
        assert_eq!(f("3.0.0"), Some(Family::ConfigSource));
    }
}
