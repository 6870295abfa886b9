//! Whether a pod template resets the server's database copy of its authentication settings
//! before the server starts: an init container that runs OpenMetadata's
//! `openmetadata-ops.sh remove-security-config --force` (openmetadata-server-behaviour.md §2.1).
//! Every new pod then deletes the two rows and its server seeds them again from the same
//! environment. The command exits 0 even when the delete failed, so the template only says the
//! reset is there; the per-pod proof says whether it worked. Pure.

use k8s_openapi::api::core::v1::{Container, PodSpec};

/// The subcommand, and the flag without which it waits for `DELETE` on its standard input.
const SUBCOMMAND: &str = "remove-security-config";
const FORCE: &str = "--force";

/// An init container of `spec` runs the reset.
pub fn in_template(spec: &PodSpec) -> bool {
    spec.init_containers.iter().flatten().any(runs_reset)
}

fn runs_reset(container: &Container) -> bool {
    let words: Vec<&str> = container
        .command
        .iter()
        .chain(container.args.iter())
        .flatten()
        // `sh -c "… remove-security-config --force"` holds both in one argument.
        .flat_map(|a| a.split_whitespace())
        .collect();
    words.contains(&SUBCOMMAND) && words.contains(&FORCE)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn spec(init: serde_json::Value) -> PodSpec {
        serde_json::from_value(json!({"containers": [{"name": "om"}], "initContainers": init}))
            .expect("a pod spec")
    }

    #[test]
    fn the_reset_is_found_as_command_args_or_a_shell_line() {
        assert!(in_template(&spec(json!([{"name": "reset",
            "command": ["./bootstrap/openmetadata-ops.sh"], "args": ["remove-security-config", "--force"]}]))));
        assert!(in_template(&spec(json!([{"name": "reset",
            "command": ["/bin/bash", "-c", "./bootstrap/openmetadata-ops.sh remove-security-config --force"]}]))));
        // The chart's migration container first, then ours (extraInitContainers).
        assert!(in_template(&spec(json!([
            {"name": "run-db-migrations", "command": ["/bin/bash"], "args": ["-c", "./bootstrap/openmetadata-ops.sh migrate"]},
            {"name": "reset", "args": ["remove-security-config", "--force"]}]))));
    }

    #[test]
    fn without_force_or_the_subcommand_there_is_no_reset() {
        assert!(!in_template(&spec(json!([{"name": "reset",
            "command": ["./bootstrap/openmetadata-ops.sh", "remove-security-config"]}]))));
        assert!(!in_template(&spec(json!([{"name": "migrate",
            "command": ["./bootstrap/openmetadata-ops.sh", "migrate", "--force"]}]))));
        assert!(!in_template(&spec(json!(null))));
    }
}
