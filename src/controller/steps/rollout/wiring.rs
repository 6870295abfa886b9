//! Whether a target's pods can see what the operator renders. Pure.
//!
//! A container loads the settings Secret with `envFrom`; Kubernetes then gives every `env` entry,
//! and every `envFrom` source listed after it, precedence over it. A variable the operator renders
//! but one of those also supplies never reaches the server, which keeps running on the other
//! value with no error anywhere. So each container that loads the settings is checked for `env`
//! entries naming a rendered variable and for sources listed after ours (their keys are not read:
//! they are reported as able to override), and the keys Secret is checked to be mounted where
//! `RSA_*_FILE_PATH` point. A target none of whose containers loads the settings is reported too.
//! And a container whose image tag names an OpenMetadata release that reads its authentication
//! settings from its database copy (1.10 to 2.0.x) is reported when its pod template does not
//! reset that copy first: a changed setting would roll the pods and change nothing.
//! Only names are reported, never values.

use crate::reasons::Reason;
use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::PodTemplateSpec;

use crate::proof::version::{Family, Release};
use crate::references::DataKind;

/// How one container of a pod template gets its configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ContainerWiring {
    pub(crate) name: String,
    /// `envFrom` sources in order.
    pub(crate) env_from: Vec<(DataKind, String)>,
    /// Names of its `env` entries.
    pub(crate) env: BTreeSet<String>,
    /// Mount path of each Secret volume it mounts: (Secret name, path).
    pub(crate) secret_mounts: Vec<(String, String)>,
    /// Its image reference.
    pub(crate) image: Option<String>,
    /// Its pod template resets the server's database copy of its auth settings before the
    /// server starts (an init container runs `remove-security-config --force`).
    pub(crate) resets_settings: bool,
}

/// The containers (init containers first) of a pod template, as far as configuration goes.
pub(crate) fn pod_wiring(template: &PodTemplateSpec) -> Vec<ContainerWiring> {
    let Some(spec) = &template.spec else {
        return Vec::new();
    };
    let secret_volumes: Vec<(String, String)> = spec
        .volumes
        .iter()
        .flatten()
        .filter_map(|v| {
            let secret = v.secret.as_ref()?.secret_name.clone()?;
            Some((v.name.clone(), secret))
        })
        .collect();
    let resets_settings = crate::proof::reset::in_template(spec);
    spec.init_containers
        .iter()
        .flatten()
        .chain(&spec.containers)
        .map(|c| ContainerWiring {
            name: c.name.clone(),
            image: c.image.clone(),
            resets_settings,
            env_from: c
                .env_from
                .iter()
                .flatten()
                .filter_map(|s| match (&s.secret_ref, &s.config_map_ref) {
                    (Some(r), _) => Some((DataKind::Secret, r.name.clone())),
                    (_, Some(r)) => Some((DataKind::ConfigMap, r.name.clone())),
                    _ => None,
                })
                .collect(),
            env: c.env.iter().flatten().map(|e| e.name.clone()).collect(),
            secret_mounts: c
                .volume_mounts
                .iter()
                .flatten()
                .filter_map(|m| {
                    let (_, secret) = secret_volumes.iter().find(|(v, _)| *v == m.name)?;
                    Some((
                        secret.clone(),
                        m.mount_path.trim_end_matches('/').to_string(),
                    ))
                })
                .collect(),
        })
        .collect()
}

/// What the operator renders, as the pods should get it.
pub(crate) struct Expected<'a> {
    pub(crate) settings_secret: &'a str,
    pub(crate) variables: BTreeSet<&'a str>,
    pub(crate) keys_secret: &'a str,
    pub(crate) key_mount_path: &'a str,
    /// The release each target's pods said they run at the last proof (`Deployment om`, the
    /// release), for an image whose tag names none (`latest`, a digest, a private tag).
    pub(crate) running: Vec<(String, Release)>,
}

/// One problem with a target's wiring.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Finding {
    /// No container of the target loads the settings Secret.
    NotLoaded { target: String },
    /// In `container`, these rendered variables are overridden by `env` entries, and these
    /// sources come after ours.
    Shadowed {
        target: String,
        container: String,
        variables: Vec<String>,
        later_sources: Vec<String>,
    },
    /// `container` loads the settings but does not mount the keys where they point.
    KeysNotMounted { target: String, container: String },
    /// `container` runs an OpenMetadata `release` that reads its auth settings from its database
    /// copy, and nothing resets that copy before it starts.
    ResetMissing {
        target: String,
        container: String,
        release: String,
    },
}

impl Finding {
    /// The condition reason for this kind of finding.
    pub(crate) fn reason(&self) -> Reason {
        match self {
            Finding::NotLoaded { .. } => Reason::SettingsNotLoaded,
            Finding::Shadowed { .. } => Reason::SettingsShadowed,
            Finding::KeysNotMounted { .. } => Reason::KeysNotMounted,
            Finding::ResetMissing { .. } => Reason::ResetMissing,
        }
    }

    /// The sentence for the condition message: names only.
    pub(crate) fn describe(&self) -> String {
        match self {
            Finding::NotLoaded { target } => format!(
                "{target}: no container loads the settings Secret with envFrom, so the server runs without them"
            ),
            Finding::Shadowed {
                target,
                container,
                variables,
                later_sources,
            } => {
                let mut parts = Vec::new();
                if !variables.is_empty() {
                    parts.push(format!(
                        "env entries override {} (an env entry beats every envFrom source)",
                        variables.join(", ")
                    ));
                }
                if !later_sources.is_empty() {
                    parts.push(format!(
                        "{} come after the settings Secret in envFrom and win for any variable they hold",
                        later_sources.join(", ")
                    ));
                }
                format!("{target} container {container}: {}", parts.join("; "))
            }
            Finding::KeysNotMounted { target, container } => format!(
                "{target} container {container}: the keys Secret is not mounted where RSA_PRIVATE_KEY_FILE_PATH points"
            ),
            Finding::ResetMissing {
                target,
                container,
                release,
            } => format!(
                "{target} container {container}: its image is OpenMetadata {release}, which after its first start reads \
                 the authentication settings from the copy in its database and ignores changed ones: run \
                 `openmetadata-ops.sh remove-security-config --force` before the server starts (an init container; \
                 docs/openmetadata-chart.md), or run 2.1 or later"
            ),
        }
    }
}

/// The findings for every existing target: its name (`Deployment om`) and how its containers
/// get their configuration.
pub(crate) fn check<'a>(
    targets: impl IntoIterator<Item = (String, &'a [ContainerWiring])>,
    expected: &Expected<'_>,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    for (name, wiring) in targets {
        let loading: Vec<(&ContainerWiring, usize)> = wiring
            .iter()
            .filter_map(|c| {
                let at = c
                    .env_from
                    .iter()
                    .position(|(k, n)| *k == DataKind::Secret && n == expected.settings_secret)?;
                Some((c, at))
            })
            .collect();
        if loading.is_empty() {
            findings.push(Finding::NotLoaded { target: name });
            continue;
        }
        for (container, at) in loading {
            let variables: Vec<String> = container
                .env
                .iter()
                .filter(|v| expected.variables.contains(v.as_str()))
                .cloned()
                .collect();
            let later_sources: Vec<String> = container.env_from[at + 1..]
                .iter()
                .map(|(k, n)| format!("{} {n}", k.as_str()))
                .collect();
            if !variables.is_empty() || !later_sources.is_empty() {
                findings.push(Finding::Shadowed {
                    target: name.clone(),
                    container: container.name.clone(),
                    variables,
                    later_sources,
                });
            }
            let running = || {
                expected
                    .running
                    .iter()
                    .find(|(t, _)| *t == name)
                    .map(|(_, r)| *r)
            };
            if let Some(release) = container
                .image
                .as_deref()
                .and_then(Release::from_image)
                .or_else(running)
                .filter(|r| r.family() == Family::CopiesToDatabase && !container.resets_settings)
            {
                findings.push(Finding::ResetMissing {
                    target: name.clone(),
                    container: container.name.clone(),
                    release: release.to_string(),
                });
            }
            let mounted = container
                .secret_mounts
                .iter()
                .any(|(s, path)| s == expected.keys_secret && path == expected.key_mount_path);
            if !mounted {
                findings.push(Finding::KeysNotMounted {
                    target: name.clone(),
                    container: container.name.clone(),
                });
            }
        }
    }
    findings
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::controller::steps::rollout::workloads::{Target, deployment_state};
    use crate::crd::{TargetKind, TargetRef};

    fn target(containers: serde_json::Value) -> Target {
        target_with_init(containers, json!([]))
    }

    fn target_with_init(containers: serde_json::Value, init: serde_json::Value) -> Target {
        let d = serde_json::from_value(json!({
            "metadata": {"name": "om", "uid": "u", "generation": 1},
            "spec": {
                "selector": {"matchLabels": {"app": "om"}},
                "template": {"spec": {
                    "initContainers": init,
                    "containers": containers,
                    "volumes": [{"name": "jwt", "secret": {"secretName": "om-jwt-keys"}}],
                }},
            },
        }))
        .expect("Deployment");
        Target {
            reference: TargetRef {
                kind: TargetKind::Deployment,
                name: "om".into(),
            },
            state: deployment_state(&d),
        }
    }

    fn expected() -> Expected<'static> {
        Expected {
            settings_secret: "om-auth-env",
            variables: ["OIDC_CLIENT_ID", "AUTHENTICATION_PROVIDER"].into(),
            keys_secret: "om-jwt-keys",
            key_mount_path: "/etc/openmetadata/jwtkeys",
            running: Vec::new(),
        }
    }

    fn mount() -> serde_json::Value {
        json!([{"name": "jwt", "mountPath": "/etc/openmetadata/jwtkeys", "readOnly": true}])
    }

    #[test]
    fn a_container_that_loads_the_settings_last_and_mounts_the_keys_is_fine() {
        let t = target(json!([{
            "name": "server", "image": "om",
            "envFrom": [{"secretRef": {"name": "chart-secret"}}, {"secretRef": {"name": "om-auth-env"}}],
            "env": [{"name": "DB_USER_PASSWORD", "value": "x"}],
            "volumeMounts": mount(),
        }, {"name": "sidecar", "image": "proxy"}]));
        assert!(check([&t].into_iter().filter_map(Target::wiring), &expected()).is_empty());
    }

    #[test]
    fn env_entries_and_later_sources_shadow_the_settings() {
        let t = target(json!([{
            "name": "server", "image": "om",
            "envFrom": [{"secretRef": {"name": "om-auth-env"}}, {"configMapRef": {"name": "overrides"}}],
            "env": [{"name": "OIDC_CLIENT_ID", "value": "never-printed"}],
            "volumeMounts": mount(),
        }]));
        let findings = check([&t].into_iter().filter_map(Target::wiring), &expected());
        assert_eq!(
            findings,
            [Finding::Shadowed {
                target: "Deployment om".into(),
                container: "server".into(),
                variables: vec!["OIDC_CLIENT_ID".into()],
                later_sources: vec!["ConfigMap overrides".into()],
            }]
        );
        let text = findings[0].describe();
        assert!(
            text.contains("OIDC_CLIENT_ID") && !text.contains("never-printed"),
            "{text}"
        );
    }

    #[test]
    fn a_target_that_does_not_load_the_settings_or_mount_the_keys_is_reported() {
        let none = target(json!([{"name": "server", "image": "om"}]));
        assert_eq!(
            check([&none].into_iter().filter_map(Target::wiring), &expected()),
            [Finding::NotLoaded {
                target: "Deployment om".into()
            }]
        );
        let unmounted = target(json!([{
            "name": "server", "image": "om",
            "envFrom": [{"secretRef": {"name": "om-auth-env"}}],
        }]));
        assert_eq!(
            check(
                [&unmounted].into_iter().filter_map(Target::wiring),
                &expected()
            )[0]
            .reason(),
            "KeysNotMounted"
        );
    }

    /// OpenMetadata 1.10-2.0.x ignores changed settings unless the template resets its database
    /// copy; other releases, untagged images and templates with the reset are fine.
    #[test]
    fn a_server_that_reads_its_database_copy_needs_the_reset_in_its_template() {
        let server = |image: &str| {
            json!([{
                "name": "server", "image": image,
                "envFrom": [{"secretRef": {"name": "om-auth-env"}}],
                "volumeMounts": mount(),
            }])
        };
        let findings = |t: &Target| check([t].into_iter().filter_map(Target::wiring), &expected());
        let stale = target(server("docker.getcollate.io/openmetadata/server:1.13.1"));
        assert_eq!(
            findings(&stale),
            [Finding::ResetMissing {
                target: "Deployment om".into(),
                container: "server".into(),
                release: "1.13.1".into(),
            }]
        );
        assert_eq!(findings(&stale)[0].reason(), "ResetMissing");
        assert!(
            findings(&stale)[0]
                .describe()
                .contains("remove-security-config --force")
        );
        let reset = json!([{"name": "run-db-migrations", "image": "docker.getcollate.io/openmetadata/server:1.13.1",
            "command": ["/bin/bash", "-c", "./bootstrap/openmetadata-ops.sh migrate && ./bootstrap/openmetadata-ops.sh remove-security-config --force"]}]);
        let fixed = target_with_init(
            server("docker.getcollate.io/openmetadata/server:1.13.1"),
            reset,
        );
        assert!(findings(&fixed).is_empty());
        for fine in [
            "openmetadata/server:1.9.4",
            "openmetadata/server:2.1.0",
            "openmetadata/server:latest",
            "om",
        ] {
            assert!(findings(&target(server(fine))).is_empty(), "{fine}");
        }
        // An untagged image whose pods said (at the last proof) they run 1.13.1.
        let running = Expected {
            running: vec![("Deployment om".into(), Release::parse("1.13.1").unwrap())],
            ..expected()
        };
        let latest = target(server("openmetadata/server:latest"));
        let found = check([&latest].into_iter().filter_map(Target::wiring), &running);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].reason(), "ResetMissing");
        // The tag wins over what ran before (an upgrade to 2.1 in this very change).
        let upgraded = target(server("openmetadata/server:2.1.0"));
        assert!(check([&upgraded].into_iter().filter_map(Target::wiring), &running).is_empty());
    }
}
