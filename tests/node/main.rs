//! End-to-end suites on the local real node (kubelet, containerd and runc next to the local control
//! plane: `scripts/node/up.sh`), where pods really run: our image and our chart as a user installs
//! them. A test binary of its own, so that the kwok suites (`--test e2e`) never need the node.
//!
//! `make test-node` (scripts/test-node.sh) builds the images, starts the node with them and runs
//! `cargo test --features e2e --test node`. Run by hand, the node must be up with both images
//! imported (`make image image-testapp node-up`); a missing node fails the test, it never skips.
// Helpers are `pub` for the suites of this one test crate.
#![allow(unreachable_pub)]
// A failed unwrap in a helper fails its test, which is what it is there for.
#![allow(clippy::unwrap_used)]

/// The e2e binary's harness, shared as source: cluster access, Helm releases of our chart and the
/// standard scenario. This binary uses only part of it; the e2e binary uses all of it.
#[allow(dead_code)]
#[path = "../e2e/support"]
mod support {
    pub mod chart;
    pub mod cluster;
    pub mod operator;
    pub mod process_group;
    pub mod scenario;
}

mod node;
mod standin;
mod target;

mod chart_on_node;
mod proof;
mod registry;
mod renewal;
mod upgrade;
