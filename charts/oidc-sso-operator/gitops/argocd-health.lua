-- Argo CD health check for oidcsso.io/OidcSsoConfig (argocd-cm key
-- resource.customizations.health.oidcsso.io_OidcSsoConfig; see argocd-cm.yaml and docs/install.md).
--
-- Reads what the operator writes for kstatus: status.observedGeneration and the conditions Ready,
-- Reconciling and Stalled, each with its own observedGeneration.
--   not yet observed, or observed for an older generation -> Progressing
--   Stalled=True (only a change by the user helps)         -> Degraded
--   Ready=True (every target runs the current config)      -> Healthy
--   Ready=False reason Suspended (spec.suspend)            -> Suspended
--   anything else (rolling out, provider unreachable...)   -> Progressing
-- Written for Argo CD's Lua 5.1 (gopher-lua): no goto, no integer division, no os/io.
local hs = {status = "Progressing", message = "Waiting for the operator to reconcile this resource"}
if obj.status == nil then
  return hs
end
local generation = nil
if obj.metadata ~= nil then
  generation = obj.metadata.generation
end
local observed = obj.status.observedGeneration
if generation ~= nil and (observed == nil or observed < generation) then
  hs.message = "Waiting for the operator to observe generation " .. tostring(generation)
  return hs
end

local ready, reconciling, stalled = nil, nil, nil
if obj.status.conditions ~= nil then
  for _, c in ipairs(obj.status.conditions) do
    -- A condition written for an older generation says nothing about the current spec.
    local current = c.observedGeneration == nil or generation == nil or c.observedGeneration >= generation
    if current then
      if c.type == "Ready" then
        ready = c
      elseif c.type == "Reconciling" then
        reconciling = c
      elseif c.type == "Stalled" then
        stalled = c
      end
    end
  end
end

local function describe(c)
  local reason = c.reason or ""
  if c.message ~= nil and c.message ~= "" then
    if reason ~= "" then
      return reason .. ": " .. c.message
    end
    return c.message
  end
  return reason
end

if stalled ~= nil and stalled.status == "True" then
  hs.status = "Degraded"
  hs.message = describe(stalled)
  return hs
end
if ready ~= nil and ready.status == "True" then
  hs.status = "Healthy"
  hs.message = describe(ready)
  return hs
end
if ready ~= nil and ready.reason == "Suspended" then
  hs.status = "Suspended"
  hs.message = describe(ready)
  return hs
end
if reconciling ~= nil and reconciling.status == "True" then
  hs.message = describe(reconciling)
  return hs
end
if ready ~= nil then
  hs.message = describe(ready)
end
return hs
