#!/usr/bin/env bash
# Build the local control plane binaries (kube-apiserver, etcd, vc-scheduler,
# vc-controller-manager) from Go modules with the ordinary `go` client.
#
# Binaries go to a version-keyed folder outside the repository:
#   ${HYPERTOPO_CACHE:-$HOME/.cache/hypertopo}/cp-<versions>/bin
# An existing complete build is reused (no Go needed then). Cold and warm
# timings measured on a 2-core machine are in controlplane/README.md.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
source "$HERE/versions.env"

export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS="-trimpath -mod=mod"
CACHE_ROOT="${HYPERTOPO_CACHE:-$HOME/.cache/hypertopo}"
KEY="cp-k8s${K8S_VERSION#v}-etcd${ETCD_VERSION#v}-vc${VOLCANO_VERSION#v}"
BIN="$CACHE_ROOT/$KEY/bin"
BINARIES=(etcd kube-apiserver vc-scheduler vc-controller-manager)

say() { printf '[build %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf 'build error: %s\n' "$*" >&2; exit 1; }

if [[ "${1:-}" == "--print-bin" ]]; then echo "$BIN"; exit 0; fi

missing=()
for b in "${BINARIES[@]}"; do [[ -x "$BIN/$b" ]] || missing+=("$b"); done
if [[ ${#missing[@]} -eq 0 ]]; then
  say "all binaries present in $BIN (reusing)"
  echo "$BIN"; exit 0
fi

command -v go >/dev/null 2>&1 || die "the Go toolchain ('go') is not on PATH; install Go >= 1.25 (https://go.dev/dl) and retry"
GOVER="$(go env GOVERSION)"
case "$GOVER" in
  go1.2[5-9]*|go1.[3-9]*) ;;
  *) die "Go $GOVER is too old; kube-apiserver ${K8S_VERSION} needs Go >= 1.25" ;;
esac
say "building ${missing[*]} into $BIN"
say "first build: ~0.8 GB of modules, ~9 CPU-minutes of compiling (about 8 min on 2 cores, longer on slower"
say "machines or proxies; see controlplane/README.md); progress is printed every 30 s"
mkdir -p "$BIN"

check_proxy() {  # $1 = module directory
  if ! (cd "$1" && go mod download -x >/dev/null 2>"$BIN/../download.log"); then
    tail -5 "$BIN/../download.log" >&2
    die "could not download modules for $(basename "$1") (is the Go module proxy $(go env GOPROXY) reachable?)"
  fi
}

k8s_ldflags() {
  local f="-s -w" pkg
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    f+=" -X $pkg.gitVersion=${K8S_VERSION} -X $pkg.gitMajor=1 -X $pkg.gitMinor=$(cut -d. -f2 <<<"$K8S_VERSION")"
    f+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
  done
  echo "$f"
}

build() {  # $1 = module dir, $2 = output name, $3 = package, rest = extra args
  local dir="$1" out="$2" pkg="$3"; shift 3
  [[ -x "$BIN/$out" ]] && { say "$out: present"; return; }
  say "$out: compiling $pkg ..."
  local t0=$SECONDS vlog="$BIN/../build-$out.log" pid n=0
  # -v lists each package as it is compiled (cached ones are not listed): the heartbeat counts them
  (cd "$dir" && exec go build -v "$@" -o "$BIN/$out.tmp" "$pkg") >"$vlog" 2>&1 &
  pid=$!
  CHILD=$pid
  while kill -0 "$pid" 2>/dev/null; do
    sleep 1
    if (( ++n % 30 == 0 )) && kill -0 "$pid" 2>/dev/null; then
      say "$out: still compiling ... $((SECONDS - t0)) s, $(grep -vc '^#' "$vlog" || true) packages compiled so far"
    fi
  done
  if ! wait "$pid"; then
    CHILD=
    grep -v '^[a-zA-Z0-9._/-]*$' "$vlog" | tail -30 >&2 || true
    die "go build of $pkg failed (full log: $vlog)"
  fi
  CHILD=
  mv "$BIN/$out.tmp" "$BIN/$out"
  say "$out: done in $((SECONDS - t0)) s ($(du -h "$BIN/$out" | cut -f1), $(grep -vc '^#' "$vlog" || true) packages compiled)"
}

# stop a running `go build` if we are interrupted or fail
CHILD=
trap '[[ -n "$CHILD" ]] && kill "$CHILD" 2>/dev/null; true' EXIT

say "checking module downloads (kube) ..."
check_proxy "$HERE/go/kube"
build "$HERE/go/kube" etcd go.etcd.io/etcd/server/v3 -ldflags "-s -w"
build "$HERE/go/kube" kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver \
  -tags selinux,notest,grpcnotrace -ldflags "$(k8s_ldflags)"

say "checking module downloads (volcano) ..."
"$HERE/go/volcano/prepare.sh" >&2
check_proxy "$HERE/go/volcano"
VCLD="-s -w -X volcano.sh/volcano/pkg/version.Version=${VOLCANO_VERSION}"
build "$HERE/go/volcano" vc-scheduler volcano.sh/volcano/cmd/scheduler -ldflags "$VCLD"
build "$HERE/go/volcano" vc-controller-manager volcano.sh/volcano/cmd/controller-manager -ldflags "$VCLD"

"$BIN/kube-apiserver" --version >&2
say "build complete in $SECONDS s: $BIN"
echo "$BIN"
