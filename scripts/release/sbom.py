#!/usr/bin/env python3
"""CycloneDX 1.5 JSON SBOM of the operator's binary, from `cargo metadata` and Cargo.lock.

    scripts/release/sbom.py [--target TRIPLE] [--output FILE]

Lists the crates the `oidc-sso-operator` binary is built from: the package's normal dependencies,
transitively, as `cargo tree -e normal` resolves them for TRIPLE (default: the host's) with the
locked versions and the features a build really enables (`cargo metadata`'s resolve also lists
optional crates only tests or build scripts turn on, ring and quinn among them, which are not in
the binary). Build scripts' and tests' dependencies are left out; proc macros, normal
dependencies, are in. Details (licence, repository, description) come from `cargo metadata`. Each component carries its purl, its licence expression as Cargo.toml
declares it, its source and, for crates.io crates, the SHA-256 of the `.crate` file from Cargo.lock.
The dependency graph is included. Reproducible: the timestamp is the commit time (SOURCE_DATE_EPOCH
wins when set) and the serial number is derived from the content. Needs cargo and Python 3.11+.
"""

import argparse
import datetime
import hashlib
import json
import os
import subprocess
import sys
import tomllib
import uuid

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def host_triple():
    out = subprocess.run(["rustc", "-vV"], check=True, capture_output=True, text=True).stdout
    return next(l.split(": ", 1)[1] for l in out.splitlines() if l.startswith("host: "))


def source_epoch():
    if os.environ.get("SOURCE_DATE_EPOCH"):
        return int(os.environ["SOURCE_DATE_EPOCH"])
    try:
        out = subprocess.run(["git", "-C", REPO, "log", "-1", "--format=%ct"], check=True,
                             capture_output=True, text=True).stdout.strip()
        return int(out)
    except (subprocess.CalledProcessError, ValueError, FileNotFoundError):
        return 0


def purl(pkg):
    return f"pkg:cargo/{pkg['name']}@{pkg['version']}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--target", default=None, help="target triple (default: the host's)")
    ap.add_argument("--output", default="-", help="file to write (default: stdout)")
    args = ap.parse_args()
    target = args.target or host_triple()

    meta = json.loads(subprocess.run(
        ["cargo", "metadata", "--format-version", "1", "--locked", "--filter-platform", target],
        cwd=REPO, check=True, capture_output=True, text=True).stdout)
    with open(os.path.join(REPO, "Cargo.lock"), "rb") as f:
        lock = tomllib.load(f)
    checksums = {(p["name"], p["version"]): p.get("checksum") for p in lock.get("package", [])}

    packages = {p["id"]: p for p in meta["packages"]}
    root_id = meta["resolve"]["root"]
    if root_id is None:
        sys.exit("cargo metadata names no root package")
    root = packages[root_id]
    if not any(t["name"] == "oidc-sso-operator" and "bin" in t["kind"] for t in root["targets"]):
        sys.exit(f"{root['name']} has no binary target oidc-sso-operator")

    # The graph as the feature resolver builds it: `cargo tree` lines are "<depth><name> v<version>
    # [(...)]"; a line's parent is the nearest line above it one level up.
    tree = subprocess.run(
        ["cargo", "tree", "-e", "normal", "--target", target, "--prefix", "depth", "--format", "{p}",
         "--locked"], cwd=REPO, check=True, capture_output=True, text=True).stdout
    by_name_version = {(p["name"], p["version"]): i for i, p in packages.items()}
    graph, stack = {}, []
    for line in tree.splitlines():
        digits = len(line) - len(line.lstrip("0123456789"))
        if digits == 0:
            continue
        depth = int(line[:digits])
        name, version = line[digits:].split()[:2]
        node_id = by_name_version[(name, version.lstrip("v"))]
        del stack[depth:]
        graph.setdefault(node_id, set())
        if stack:
            graph[stack[-1]].add(node_id)
        stack.append(node_id)
    if root_id not in graph:
        sys.exit("cargo tree does not start at the root package")
    graph = {i: sorted(deps) for i, deps in graph.items()}

    components = []
    for node_id in sorted(graph, key=lambda i: (packages[i]["name"], packages[i]["version"])):
        if node_id == root_id:
            continue
        pkg = packages[node_id]
        c = {
            "type": "library",
            "bom-ref": purl(pkg),
            "name": pkg["name"],
            "version": pkg["version"],
            "purl": purl(pkg),
            "scope": "required",
        }
        if pkg.get("description"):
            c["description"] = " ".join(pkg["description"].split())
        if pkg.get("license"):
            c["licenses"] = [{"expression": pkg["license"]}]
        sum_ = checksums.get((pkg["name"], pkg["version"]))
        if sum_:
            c["hashes"] = [{"alg": "SHA-256", "content": sum_}]
        refs = []
        if pkg.get("repository"):
            refs.append({"type": "vcs", "url": pkg["repository"]})
        if (pkg.get("source") or "").startswith("registry+"):
            refs.append({"type": "distribution",
                         "url": f"https://crates.io/crates/{pkg['name']}/{pkg['version']}"})
        if refs:
            c["externalReferences"] = refs
        components.append(c)

    when = datetime.datetime.fromtimestamp(source_epoch(), datetime.timezone.utc)
    bom = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "version": 1,
        "metadata": {
            "timestamp": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "tools": {"components": [{"type": "application", "name": "scripts/release/sbom.py",
                                      "description": "cargo metadata + Cargo.lock"}]},
            "component": {
                "type": "application",
                "bom-ref": purl(root),
                "name": "oidc-sso-operator",
                "version": root["version"],
                "purl": purl(root),
                "description": " ".join((root.get("description") or "").split()),
                "licenses": [{"expression": root["license"]}] if root.get("license") else [],
            },
            "properties": [{"name": "cargo:target", "value": target}],
        },
        "components": components,
        "dependencies": [
            {"ref": purl(packages[i]), "dependsOn": [purl(packages[d]) for d in deps]}
            for i, deps in sorted(graph.items(), key=lambda kv: purl(packages[kv[0]]))
        ],
    }
    body = json.dumps(bom, indent=2, sort_keys=False)
    bom["serialNumber"] = "urn:uuid:" + str(uuid.uuid5(uuid.NAMESPACE_URL, hashlib.sha256(body.encode()).hexdigest()))
    text = json.dumps(bom, indent=2) + "\n"
    if args.output == "-":
        sys.stdout.write(text)
    else:
        with open(args.output, "w") as f:
            f.write(text)
    print(f"[sbom] {len(components)} components for {target}", file=sys.stderr)


if __name__ == "__main__":
    main()
