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

/// The shared test kit (testkit/): cluster access, Helm releases of our chart, the standard
/// scenario, the operator process.
use oidc_sso_testkit as support;

mod node;
mod standin;
mod target;

mod chart_on_node;
mod proof;
mod registry;
mod renewal;
mod upgrade;
