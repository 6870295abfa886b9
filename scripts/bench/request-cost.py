#!/usr/bin/env python3
"""The kube-apiserver's CPU per request, by the kinds of request the operator makes (issue #17).

Usage: scripts/bench/request-cost.py OPERATOR_BINARY [REQUESTS_PER_KIND]

On the running local cluster (scripts/cluster/up.sh), in a namespace of its own: creates one
credentials Secret, one Deployment and one OidcSsoConfig, runs the given operator until the
resource is Ready (so the status and the owned Secrets are the operator's real ones), stops it
(by its PID), then replays each kind of request N times (default 400) over one keep-alive
connection and prints the apiserver's and etcd's CPU per request (from /proc, their PIDs in
.cluster/pids), the idle rate subtracted. Each write changes a value, as the operator's do. The
cluster should be otherwise idle; run it twice to see the noise. Loopback only; stdlib only.
"""
import copy
import http.client
import json
import os
import signal
import ssl
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CLUSTER = os.path.join(REPO, ".cluster")
NS = "bench-request-cost"
TICK = os.sysconf("SC_CLK_TCK")


def env():
    out = {}
    for line in open(os.path.join(CLUSTER, "env")):
        if "=" in line and not line.startswith("#"):
            k, v = line.strip().split("=", 1)
            out[k] = v.strip("'")
    return out


class Api:
    def __init__(self, url):
        host, port = url.removeprefix("https://").split(":")
        ctx = ssl.create_default_context(cafile=os.path.join(CLUSTER, "pki/ca.crt"))
        ctx.load_cert_chain(os.path.join(CLUSTER, "pki/admin.crt"), os.path.join(CLUSTER, "pki/admin.key"))
        self.conn = http.client.HTTPSConnection(host, int(port), context=ctx)

    def __call__(self, method, path, body=None, ctype="application/json", ok=(404, 409)):
        payload = None if body is None else json.dumps(body)
        self.conn.request(method, path, body=payload, headers={"Content-Type": ctype, "Accept": "application/json"})
        r = self.conn.getresponse()
        data = r.read()
        if r.status >= 300 and r.status not in ok:
            raise SystemExit(f"{method} {path}: HTTP {r.status}")
        return json.loads(data) if data else None


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def pids():
    read = lambda name: open(os.path.join(CLUSTER, "pids", f"{name}.pid")).read().strip()
    return read("kube-apiserver"), read("etcd")


def idle_rate(apiserver):
    a, t = cpu_seconds(apiserver), time.time()
    time.sleep(5)
    return (cpu_seconds(apiserver) - a) / (time.time() - t)


def setup(api, operator):
    api("POST", "/api/v1/namespaces", {"metadata": {"name": NS}})
    api("POST", f"/api/v1/namespaces/{NS}/secrets",
        {"metadata": {"name": "cred"}, "stringData": {"clientId": "openmetadata", "clientSecret": "request-cost"}})
    container = {"name": "app", "image": "registry.invalid/fake:1",
                 "envFrom": [{"secretRef": {"name": "cred"}}, {"secretRef": {"name": "cfg-auth-env", "optional": True}}]}
    api("POST", f"/apis/apps/v1/namespaces/{NS}/deployments", {
        "metadata": {"name": "app", "labels": {"app": "app"}},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "app"}},
                 "template": {"metadata": {"labels": {"app": "app"}}, "spec": {"containers": [container]}}}})
    api("POST", f"/apis/oidcsso.io/v1alpha1/namespaces/{NS}/oidcssoconfigs", {
        "apiVersion": "oidcsso.io/v1alpha1", "kind": "OidcSsoConfig", "metadata": {"name": "cfg"},
        "spec": {"provider": {"displayName": "Keycloak", "issuer": "https://idp.example.com/realms/data",
                              "jwksUrl": "https://idp.example.com/realms/data/protocol/openid-connect/certs",
                              "clientType": "Confidential", "credentialsSecretRef": {"name": "cred"},
                              "verify": {"discovery": False}},
                 "authorizer": {"adminPrincipals": ["alice"], "principalDomain": "example.com"},
                 "server": {"externalUrl": "https://om.example.com"},
                 "targets": [{"kind": "Deployment", "name": "app"}]}})
    log = open(os.path.join(REPO, ".work", "request-cost-operator.log"), "w")
    proc = subprocess.Popen([operator, "run", "--namespace", NS, "--http-addr", "127.0.0.1:0", "--server-proof=false"], stdout=log, stderr=log,
                            env=dict(os.environ, KUBECONFIG=env()["KUBECONFIG"]))
    try:
        for _ in range(120):
            cfg = api("GET", f"/apis/oidcsso.io/v1alpha1/namespaces/{NS}/oidcssoconfigs/cfg")
            conds = (cfg.get("status") or {}).get("conditions", [])
            if any(c["type"] == "Ready" and c["status"] == "True" for c in conds):
                return cfg
            time.sleep(0.5)
        raise SystemExit("the resource did not become Ready in 60 s (see .work/request-cost-operator.log)")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)


def owned_secret_body(api, name, i):
    s = api("GET", f"/api/v1/namespaces/{NS}/secrets/{name}")
    meta = {k: s["metadata"][k] for k in ("name", "namespace", "labels", "annotations", "ownerReferences") if k in s["metadata"]}
    data = dict(s["data"])
    first = sorted(data)[0]
    data[first] = data[first][:-4] + ("AAAA" if i % 2 else "BBBB")
    return {"apiVersion": "v1", "kind": "Secret", "metadata": meta, "data": data, "type": s.get("type", "Opaque")}


def main():
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    operator, n = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 400
    os.makedirs(os.path.join(REPO, ".work"), exist_ok=True)
    api = Api(env()["APISERVER_URL"])
    apiserver, etcd = pids()
    cfg = setup(api, operator)
    status = cfg["status"]
    time.sleep(3)
    idle = idle_rate(apiserver)
    print(f"kube-apiserver idle: {idle * 1000:.1f} ms CPU per second (subtracted); {n} requests per kind")
    print(f"{'request':66s} {'apiserver':>11s} {'etcd':>9s} {'wall':>9s}")

    def measure(name, call):
        time.sleep(1)
        a, e, t = cpu_seconds(apiserver), cpu_seconds(etcd), time.time()
        for i in range(n):
            call(i)
        wall = time.time() - t
        a = cpu_seconds(apiserver) - a - idle * wall
        e = cpu_seconds(etcd) - e
        print(f"{name:66s} {a / n * 1000:8.2f} ms {e / n * 1000:6.2f} ms {wall / n * 1000:6.2f} ms")

    def changed_status(i):
        s = copy.deepcopy(status)
        s["rolled"] = f"{i % 2}/1"
        s["targets"][0]["updated"] = f"{i % 2}/1"
        return s

    status_path = f"/apis/oidcsso.io/v1alpha1/namespaces/{NS}/oidcssoconfigs/cfg/status"
    measure(f"status: server-side apply ({len(json.dumps(status))} B, as the operator)",
            lambda i: api("PATCH", status_path + "?fieldManager=request-cost&force=true",
                          {"apiVersion": "oidcsso.io/v1alpha1", "kind": "OidcSsoConfig",
                           "metadata": {"name": "cfg"}, "status": changed_status(i)}, "application/apply-patch+yaml"))
    measure("status: JSON merge patch of the whole status",
            lambda i: api("PATCH", status_path + "?fieldManager=request-cost-merge",
                          {"status": changed_status(i)}, "application/merge-patch+json"))
    for name in ("cfg-auth-env", "cfg-jwt-keys"):
        path = f"/api/v1/namespaces/{NS}/secrets/{name}"
        bodies = [owned_secret_body(api, name, i) for i in range(2)]
        measure(f"Secret {name} ({len(json.dumps(bodies[0]))} B): server-side apply, as the operator",
                lambda i: api("PATCH", path + "?fieldManager=request-cost&force=true", bodies[i % 2], "application/apply-patch+yaml"))
        measure(f"Secret {name}: get", lambda i: api("GET", path))
    measure("Secret: get, not found (the check before creating)", lambda i: api("GET", f"/api/v1/namespaces/{NS}/secrets/absent"))
    measure("Deployment: get", lambda i: api("GET", f"/apis/apps/v1/namespaces/{NS}/deployments/app"))
    uid = cfg["metadata"]["uid"]
    measure("Event: create (events.k8s.io/v1)", lambda i: api("POST", f"/apis/events.k8s.io/v1/namespaces/{NS}/events", {
        "metadata": {"generateName": "cfg-"}, "eventTime": "2026-01-01T00:00:00.000000Z",
        "reportingController": "oidcsso.io/oidc-sso-operator", "reportingInstance": "request-cost",
        "action": "Reconcile", "reason": "RolloutTriggered", "type": "Normal", "note": f"request {i}",
        "regarding": {"apiVersion": "oidcsso.io/v1alpha1", "kind": "OidcSsoConfig", "name": "cfg",
                      "namespace": NS, "uid": uid}}, ok=()))
    api("DELETE", f"/api/v1/namespaces/{NS}")


if __name__ == "__main__":
    main()
