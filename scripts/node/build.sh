#!/usr/bin/env bash
# Builds (once) what the local real node runs, from the Go module proxy and Debian, cached under
# version-keyed folders in ~/.cache/oidc-sso-operator like scripts/cluster/build.sh:
#   kubelet      k8s.io/kubernetes $K8S_VERSION (the control plane's module; own wrapper module)
#   containerd   containerd, containerd-shim-runc-v2 and ctr $CONTAINERD_VERSION (CGO_ENABLED=0)
#   cni          the CNI plugins bridge, host-local, loopback $CNI_PLUGINS_VERSION (CGO_ENABLED=0)
#   pause        scripts/node/pause (static Go), packaged FROM scratch as $PAUSE_IMAGE (OCI archive)
#   runc         Debian's (apt-get install -y runc when missing); also buildah for the pause image
#   registry     the Distribution registry $REGISTRY_VERSION (CGO_ENABLED=0) and Debian's skopeo: the
#                suite that pushes our image and chart to a registry and pulls them from it
# Usage: scripts/node/build.sh [component...]   (default: all). Prints the cached paths.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib/node.sh
. "$here/../lib/node.sh"
# shellcheck source=../lib/image.sh
. "$here/../lib/image.sh"
# shellcheck source=../lib/go.sh
. "$here/../lib/go.sh"

export GOWORK=off GOFLAGS=-mod=mod CGO_ENABLED=0
export GOMAXPROCS=${GOMAXPROCS:-2}

build_kubelet() {
  local out
  out=$(kubelet_bin_dir)
  [ -x "$out/kubelet" ] && return 0
  require_go
  local t0
  t0=$(date +%s)
  nlog "kubelet $K8S_VERSION: building (cold: minutes; shares the Go build cache with the control plane)"
  # Same wrapper-module build as scripts/cluster/build.sh's (lib/go.sh), in a folder of its own so a
  # concurrent control-plane build is not disturbed; same flags, so compiled packages are reused.
  go_build_k8s "$out" "$CACHE_ROOT/src/kubelet-$K8S_VERSION" example.invalid/kubeletbin kubelet
  nlog "kubelet $K8S_VERSION: built in $(took "$t0")"
}

build_containerd() {
  local out
  out=$(containerd_bin_dir)
  [ -x "$out/containerd" ] && [ -x "$out/containerd-shim-runc-v2" ] && [ -x "$out/ctr" ] && return 0
  require_go
  local t0
  t0=$(date +%s)
  nlog "containerd $CONTAINERD_VERSION: building containerd, containerd-shim-runc-v2, ctr"
  local mod=github.com/containerd/containerd/v2 pkg=github.com/containerd/containerd/v2
  local ldf="-s -w -X $pkg/version.Version=$CONTAINERD_VERSION -X $pkg/version.Revision=goproxy -X $pkg/version.Package=$pkg"
  cache_tmp "$out"
  # Tags as containerd's Makefile uses them (btrfs needs cgo anyway; the shim drops the gRPC server).
  GOBIN="$out.tmp" go install -trimpath -ldflags "$ldf" -tags "urfave_cli_no_docs no_btrfs no_devmapper no_zfs" \
    "$mod/cmd/containerd@$CONTAINERD_VERSION" "$mod/cmd/ctr@$CONTAINERD_VERSION"
  GOBIN="$out.tmp" go install -trimpath -ldflags "$ldf" -tags "urfave_cli_no_docs no_grpc" \
    "$mod/cmd/containerd-shim-runc-v2@$CONTAINERD_VERSION"
  cache_commit "$out"
  nlog "containerd $CONTAINERD_VERSION: built in $(took "$t0")"
}

build_cni() {
  local out p missing=0
  out=$(cni_bin_dir)
  for p in "${CNI_PLUGINS[@]}"; do [ -x "$out/$p" ] || missing=1; done
  [ $missing = 1 ] || return 0
  require_go
  local t0
  t0=$(date +%s)
  nlog "CNI plugins $CNI_PLUGINS_VERSION: building ${CNI_PLUGINS[*]}"
  local mod=github.com/containernetworking/plugins pkgs=()
  for p in "${CNI_PLUGINS[@]}"; do
    case $p in
      host-local) pkgs+=("$mod/plugins/ipam/$p@$CNI_PLUGINS_VERSION") ;;
      *) pkgs+=("$mod/plugins/main/$p@$CNI_PLUGINS_VERSION") ;;
    esac
  done
  # As the project's build_linux.sh, with its version stamped like its release builds.
  go_install_cached "$out" "-s -w -X $mod/pkg/utils/buildversion.BuildVersion=$CNI_PLUGINS_VERSION" "${pkgs[@]}"
  nlog "CNI plugins $CNI_PLUGINS_VERSION: built in $(took "$t0")"
}

build_pause() {
  local out
  out=$(pause_dir)
  [ -x "$out/pause" ] && [ -f "$out/pause.oci.tar" ] && return 0
  local t0
  t0=$(date +%s)
  nlog "pause: building $PAUSE_IMAGE from scripts/node/pause"
  cache_tmp "$out"
  mkdir "$out.tmp/rootfs"
  (cd "$here/pause" && go build -trimpath -ldflags "-s -w" -o "$out.tmp/pause" .)
  install -m 0755 "$out.tmp/pause" "$out.tmp/rootfs/pause"
  # As upstream's image: /pause only, user 65535, entrypoint /pause.
  SOURCE_DATE_EPOCH=0 scratch_image "$out.tmp/rootfs" "$out.tmp/pause.oci.tar" "$PAUSE_IMAGE" \
    --user 65535:65535 --entrypoint '["/pause"]' --cmd '[]' --workingdir / \
    --label org.opencontainers.image.title=pause \
    --label "org.opencontainers.image.description=Local build of the pod sandbox image (scripts/node/pause)"
  rm -rf "$out.tmp/rootfs"
  cache_commit "$out"
  nlog "pause: built in $(took "$t0")"
}

build_runc() {
  ensure_pkg runc runc
}

build_registry() {
  ensure_pkg skopeo skopeo
  local bin out
  bin=$(registry_bin)
  out=$(dirname "$bin")
  [ -x "$bin" ] && return 0
  require_go
  local t0
  t0=$(date +%s)
  nlog "registry $REGISTRY_VERSION: building (cold: about 2 min)"
  local mod=github.com/distribution/distribution/v3
  go_install_cached "$out" "-s -w -X $mod/version.version=$REGISTRY_VERSION" "$mod/cmd/registry@$REGISTRY_VERSION"
  nlog "registry $REGISTRY_VERSION: built in $(took "$t0")"
}

components=("$@")
[ ${#components[@]} -gt 0 ] || components=(runc pause cni containerd kubelet registry)
for c in "${components[@]}"; do
  case $c in
    kubelet)
      with_cache_lock build-kubelet build_kubelet
      echo "$(kubelet_bin_dir)/kubelet"
      ;;
    containerd)
      with_cache_lock build-containerd build_containerd
      containerd_bin_dir
      ;;
    pause)
      with_cache_lock build-pause build_pause
      pause_archive
      ;;
    cni)
      with_cache_lock build-cni build_cni
      cni_bin_dir
      ;;
    runc)
      with_cache_lock build-runc build_runc
      runc_bin
      ;;
    registry)
      with_cache_lock build-registry build_registry
      registry_bin
      ;;
    -h | --help)
      print_usage
      exit 0
      ;;
    *)
      nlog "unknown component: $c (kubelet, containerd, cni, pause, runc, registry)"
      exit 2
      ;;
  esac
done
