#!/usr/bin/env bash
# Builds (once, cached by content) the JVM programs of the offline tests: resolves tests/jvm/pom.xml
# from Maven Central and compiles tests/jvm/src against it. Prints the classpath to use.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
src=$root/tests/jvm
# shellcheck source=../lib/cache.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/cache.sh"
cache_root=$CACHE_ROOT
key=$(cat "$src/pom.xml" "$src"/src/*.java | sha256sum | cut -c1-16)
out=$cache_root/jvm-checks-$key
mkdir -p "$cache_root"
# Tests call this concurrently: one builds, the others wait for it.
exec 9>"$cache_root/jvm-checks.lock"
flock 9
if [ ! -f "$out/.done" ]; then
  command -v mvn >/dev/null || {
    echo "mvn not found (Maven is needed once, to fetch the test's JVM libraries)" >&2
    exit 1
  }
  rm -rf "$out.tmp"
  mkdir -p "$out.tmp/lib" "$out.tmp/classes"
  (cd "$src" && mvn -q -B -Dstyle.color=never dependency:copy-dependencies -DoutputDirectory="$out.tmp/lib") >&2
  javac -d "$out.tmp/classes" -cp "$out.tmp/lib/*" "$src"/src/*.java >&2
  touch "$out.tmp/.done"
  rm -rf "$out"
  mv "$out.tmp" "$out"
fi
echo "$out/classes:$out/lib/*"
