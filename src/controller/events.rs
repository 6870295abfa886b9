//! Events for user-visible transitions. Publishing is best effort: a failure is logged, never
//! fails the reconcile.

use kube::Resource;
use kube::runtime::events::{Event, EventType};
use tracing::warn;

use super::{Context, verify};
use crate::crd::{OidcSsoConfig, OidcSsoConfigStatus};

/// Events for provider checks that start failing, change reason, or recover.
pub(super) async fn transition_events(
    ctx: &Context,
    resource: &OidcSsoConfig,
    previous: &OidcSsoConfigStatus,
    verification: &verify::Verification,
    held: bool,
) {
    for c in &verification.conditions {
        let before = previous.conditions.iter().find(|p| p.type_ == c.type_);
        let changed = before.is_none_or(|b| b.status != c.status || b.reason != c.reason);
        if !changed {
            continue;
        }
        match c.status {
            "False" => {
                let note = if held {
                    format!(
                        "{}; the changed configuration is not rolled out until this passes",
                        c.message
                    )
                } else {
                    c.message.clone()
                };
                publish(ctx, resource, EventType::Warning, &c.reason, note).await;
            }
            "True" if before.is_some_and(|b| b.status == "False") => {
                publish(ctx, resource, EventType::Normal, c.type_, c.message.clone()).await;
            }
            _ => {}
        }
    }
}

pub(super) async fn publish(
    ctx: &Context,
    resource: &OidcSsoConfig,
    type_: EventType,
    reason: &str,
    note: String,
) {
    let event = Event {
        type_,
        reason: reason.to_string(),
        note: Some(note),
        action: "Reconcile".into(),
        secondary: None,
    };
    if let Err(e) = ctx
        .recorder
        .publish(&event, &resource.object_ref(&()))
        .await
    {
        warn!(error = %e, "failed to publish Event");
    }
}
