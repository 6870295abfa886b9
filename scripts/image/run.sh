#!/usr/bin/env bash
# Runs an image from an OCI archive (as scripts/image/build*.sh write them) with runc and nothing
# from the host: the layers are unpacked into a fresh root filesystem, mounted read-only, and the
# process gets the image's own user, entrypoint, cmd, environment and working directory, in new
# namespaces (its own network namespace: loopback only) with just /proc, /dev and /sys mounted.
#   scripts/image/run.sh ARCHIVE [ARG...]    ARGs replace the image's CMD (like `docker run IMAGE ARG...`)
# Exits with the process's status. Environment: RUN_USER=uid:gid overrides the image's user,
# RUN_KEEP=1 keeps the unpacked bundle (its path is printed on stderr). Needs root and runc
# (installed with apt-get when missing).
set -euo pipefail
# shellcheck source=../lib/image.sh
. "$(dirname "$0")/../lib/image.sh"
need_args_or_help "$@"
archive=$(realpath "$1")
shift
[ -f "$archive" ] || {
  ilog "no such archive: $archive"
  exit 1
}
ensure_pkg runc runc

bundle=$(mktemp -d "${TMPDIR:-/tmp}/oidc-sso-image-run.XXXXXX")
id=oidc-sso-image-run-$$
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
  runc --root "$bundle/state" delete --force "$id" >/dev/null 2>&1 || true
  if [ "${RUN_KEEP:-0}" = 1 ]; then ilog "bundle kept in $bundle"; else rm -rf "$bundle"; fi
}
trap cleanup EXIT

mkdir -p "$bundle/oci" "$bundle/rootfs"
tar -xf "$archive" -C "$bundle/oci"
(cd "$bundle" && runc spec)
# Unpack the layers in order (whiteouts honoured) and write the runtime config from the image config.
python3 - "$bundle" "${RUN_USER:-}" "$@" <<'PY'
import json, os, shutil, sys, tarfile

bundle, run_user, args = sys.argv[1], sys.argv[2], sys.argv[3:]
oci = os.path.join(bundle, "oci")
rootfs = os.path.join(bundle, "rootfs")

def blob(digest):
    algo, hexd = digest.split(":", 1)
    return os.path.join(oci, "blobs", algo, hexd)

index = json.load(open(os.path.join(oci, "index.json")))
manifest = json.load(open(blob(index["manifests"][0]["digest"])))
config = json.load(open(blob(manifest["config"]["digest"])))
for layer in manifest["layers"]:
    with tarfile.open(blob(layer["digest"]), "r:*") as tar:
        members = []
        for m in tar.getmembers():
            d, base = os.path.split(m.name)
            if base == ".wh..wh..opq":
                target = os.path.join(rootfs, d)
                for entry in os.listdir(target) if os.path.isdir(target) else []:
                    p = os.path.join(target, entry)
                    shutil.rmtree(p) if os.path.isdir(p) and not os.path.islink(p) else os.remove(p)
            elif base.startswith(".wh."):
                p = os.path.join(rootfs, d, base[4:])
                if os.path.isdir(p) and not os.path.islink(p):
                    shutil.rmtree(p)
                elif os.path.lexists(p):
                    os.remove(p)
            else:
                members.append(m)
        try:  # the extraction filter exists from Python 3.11.4 / 3.12 on
            tar.extractall(rootfs, members=members, numeric_owner=True, filter="tar")
        except TypeError:
            tar.extractall(rootfs, members=members, numeric_owner=True)

c = config.get("config", {})
user = run_user or c.get("User") or "0:0"
uid, _, gid = user.partition(":")
if not uid.isdigit() or (gid and not gid.isdigit()):
    sys.exit(f"image user {user!r} is not numeric uid[:gid]; set RUN_USER=uid:gid")
argv = (c.get("Entrypoint") or []) + (args if args else (c.get("Cmd") or []))
if not argv:
    sys.exit("the image has neither an entrypoint nor a cmd, and no arguments were given")

spec_path = os.path.join(bundle, "config.json")
spec = json.load(open(spec_path))
spec["root"] = {"path": "rootfs", "readonly": True}
p = spec["process"]
p["terminal"] = False
p["args"] = argv
p["env"] = c.get("Env") or []
p["cwd"] = c.get("WorkingDir") or "/"
p["user"] = {"uid": int(uid), "gid": int(gid or uid)}
p["noNewPrivileges"] = True
p["capabilities"] = {k: [] for k in ("bounding", "effective", "inheritable", "permitted", "ambient")}
spec["hostname"] = "oidc-sso-image-run"
json.dump(spec, open(spec_path, "w"), indent=1)
print(f"[image] running {argv} as {uid}:{gid or uid}, read-only root, no host files", file=sys.stderr)
PY

rc=0
runc --root "$bundle/state" run --bundle "$bundle" "$id" </dev/null || rc=$?
exit "$rc"
