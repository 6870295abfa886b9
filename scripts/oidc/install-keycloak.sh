#!/usr/bin/env bash
# Installs Keycloak (the Quarkus distribution, from Maven Central, checksum pinned) into
# ~/.cache/oidc-sso-operator/keycloak/keycloak-<version> for the end-to-end test against a real
# Keycloak (tests/e2e/keycloak.rs), once; later runs only print its path. Needs curl, tar and a
# Java 17 or later (the JDK on the PATH, or JAVA_HOME).
# Usage: scripts/oidc/install-keycloak.sh   (prints the installation's directory on stdout)
set -euo pipefail
VERSION=26.7.3
# sha256 of keycloak-quarkus-dist-$VERSION.tar.gz; its Maven Central .sha1 is checked too.
SHA256=77657f30b7e90d70f727712ce1c967f430fd6a5e9f458d32d8c6df0635345f47
URL=https://repo1.maven.org/maven2/org/keycloak/keycloak-quarkus-dist/$VERSION/keycloak-quarkus-dist-$VERSION.tar.gz
# shellcheck source=../lib/cache.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/cache.sh"
CACHE=$CACHE_ROOT/keycloak
dest=$CACHE/keycloak-$VERSION

log() { printf '[keycloak] %s\n' "$*" >&2; }

mkdir -p "$CACHE"
exec 9>"$CACHE/.install.lock"
flock 9
if [ ! -x "$dest/bin/kc.sh" ]; then
  archive=$CACHE/keycloak-quarkus-dist-$VERSION.tar.gz
  if [ ! -f "$archive" ] || ! echo "$SHA256  $archive" | sha256sum -c --quiet 2>/dev/null; then
    log "downloading $URL"
    curl -fsSL --retry 3 -o "$archive.part" "$URL"
    sha1=$(curl -fsSL --retry 3 "$URL.sha1" | cut -c1-40)
    echo "$sha1  $archive.part" | sha1sum -c --quiet
    echo "$SHA256  $archive.part" | sha256sum -c --quiet || {
      log "checksum mismatch: $archive.part"
      exit 1
    }
    mv "$archive.part" "$archive"
  fi
  rm -rf "$dest.part" && mkdir -p "$dest.part"
  tar -xzf "$archive" -C "$dest.part" --strip-components=1
  mv "$dest.part" "$dest"
  rm -f "$archive"
  log "installed $dest"
fi
echo "$dest"
