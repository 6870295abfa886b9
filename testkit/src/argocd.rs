//! Runs the chart's Argo CD health check (`charts/oidc-sso-operator/gitops/argocd-health.lua`)
//! the way Argo CD does: the object as a Lua table in the global `obj`, JSON nulls as `nil`, only
//! the libraries Argo CD's sandbox offers (base, table, string, math), and a returned table with
//! `status` and `message`. Lua 5.1, as Argo CD's gopher-lua.

use mlua::serde::SerializeOptions;
use mlua::{Lua, LuaOptions, LuaSerdeExt, StdLib, Table};

/// The script, compiled into the test.
pub const SCRIPT: &str = include_str!("../../charts/oidc-sso-operator/gitops/argocd-health.lua");

/// Argo CD's health statuses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HealthStatus {
    Healthy,
    Progressing,
    Degraded,
    Suspended,
    Missing,
    Unknown,
}

/// What the script returned.
#[derive(Clone, Debug)]
pub struct Health {
    pub status: HealthStatus,
    pub message: String,
}

/// Runs the script on `obj`. Panics (failing the test) when the script fails or returns a status
/// Argo CD does not know.
pub fn health(obj: &serde_json::Value) -> Health {
    let lua = Lua::new_with(
        StdLib::TABLE | StdLib::STRING | StdLib::MATH,
        LuaOptions::default(),
    )
    .expect("Lua state");
    let options = SerializeOptions::new()
        .serialize_none_to_null(false)
        .serialize_unit_to_null(false);
    let value = lua
        .to_value_with(obj, options)
        .expect("object as a Lua table");
    lua.globals().set("obj", value).expect("set obj");
    let hs: Table = lua
        .load(SCRIPT)
        .set_name("argocd-health.lua")
        .eval()
        .unwrap_or_else(|e| panic!("the health check failed on {obj}: {e}"));
    let status: String = hs.get("status").expect("hs.status is a string");
    let message: Option<String> = hs.get("message").expect("hs.message");
    let status = match status.as_str() {
        "Healthy" => HealthStatus::Healthy,
        "Progressing" => HealthStatus::Progressing,
        "Degraded" => HealthStatus::Degraded,
        "Suspended" => HealthStatus::Suspended,
        "Missing" => HealthStatus::Missing,
        "Unknown" => HealthStatus::Unknown,
        other => panic!("{other:?} is not an Argo CD health status"),
    };
    Health {
        status,
        message: message.unwrap_or_default(),
    }
}
