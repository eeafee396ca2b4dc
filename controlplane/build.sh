#!/usr/bin/env bash
# Build the local control plane binaries from Go modules with the ordinary `go` client:
#   wrapper go/kube    (Kubernetes v1.35.3): etcd, kube-apiserver, kube-controller-manager
#   wrapper go/volcano (Volcano v1.15.1):    vc-scheduler, vc-controller-manager, vc-webhook-manager
#   wrapper go/kwok    (kwok, own k8s.io/* versions): kwok-<KWOK_VERSION>
#
# Binaries go to a version-keyed folder outside the repository:
#   ${HYPERTOPO_CACHE:-$HOME/.cache/hypertopo}/cp-<versions>/bin
# An existing complete build is reused (no Go needed then). Only missing binaries are
# built, one at a time, each with its own verbose log (cp-<versions>/build-<binary>.log).
# A file lock ($HYPERTOPO_CACHE/build.lock) makes concurrent runs (e.g. two checkouts)
# wait for each other instead of writing the same *.tmp and logs. Timings measured on a
# 2-core machine: controlplane/README.md and controlplane/BUILD-NOTES.md.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
source "$HERE/versions.env"

export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS="-trimpath -mod=mod"
CACHE_ROOT="${HYPERTOPO_CACHE:-$HOME/.cache/hypertopo}"
# The key names the versions of the Kubernetes and Volcano builds; kube-controller-manager and
# vc-webhook-manager come from those same versions, so they live in the same folder. kwok has
# its own release line (KWOK_VERSION); it is deliberately NOT part of the key (changing the key
# would orphan the four existing binaries and force a ~8 min rebuild): its version is in its
# file name instead, so a new KWOK_VERSION builds a new kwok-<version> next to the old one.
KEY="cp-k8s${K8S_VERSION#v}-etcd${ETCD_VERSION#v}-vc${VOLCANO_VERSION#v}"
BIN="$CACHE_ROOT/$KEY/bin"
KWOK_BIN="kwok-${KWOK_VERSION}"
BINARIES=(etcd kube-apiserver kube-controller-manager vc-scheduler vc-controller-manager
  vc-webhook-manager "$KWOK_BIN")
LOCK="$CACHE_ROOT/build.lock"

say() { printf '[build %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf 'build error: %s\n' "$*" >&2; exit 1; }

if [[ "${1:-}" == "--print-bin" ]]; then echo "$BIN"; exit 0; fi

missing=()
find_missing() {
  local b
  missing=()
  for b in "${BINARIES[@]}"; do [[ -x "$BIN/$b" ]] || missing+=("$b"); done
}
is_missing() {  # any of the given binaries missing?
  local b m
  for b in "$@"; do for m in "${missing[@]}"; do [[ "$b" == "$m" ]] && return 0; done; done
  return 1
}

find_missing
if [[ ${#missing[@]} -eq 0 ]]; then
  say "all ${#BINARIES[@]} binaries present in $BIN (reusing; nothing to build)"
  echo "$BIN"; exit 0
fi

command -v go >/dev/null 2>&1 || die "the Go toolchain ('go') is not on PATH; install Go >= 1.25 (https://go.dev/dl) and retry"
GOVER="$(go env GOVERSION)"
GOMINOR=99  # unparsable (development) versions are assumed new enough
if [[ "$GOVER" =~ ^go1\.([0-9]+) ]]; then GOMINOR="${BASH_REMATCH[1]}"; fi
(( GOMINOR >= 25 )) || die "Go $GOVER is too old; kube-apiserver ${K8S_VERSION} needs Go >= 1.25"
if is_missing "$KWOK_BIN" && (( GOMINOR < 26 )); then
  die "Go $GOVER is too old for kwok ${KWOK_VERSION} (its go.mod says go 1.26.0); install Go >= 1.26"
fi
grep -q "sigs.k8s.io/kwok ${KWOK_VERSION}\b" "$HERE/go/kwok/go.mod" \
  || die "versions.env says KWOK_VERSION=${KWOK_VERSION} but go/kwok/go.mod requires another version (run 'go get -tool sigs.k8s.io/kwok/cmd/kwok@${KWOK_VERSION}' there)"

# ---------------------------------------------------------------- lock
# flock(1) on $LOCK, held until this script exits (the fd is closed then). The lock file
# names its holder; a waiting run prints that and a heartbeat, then re-checks what is missing.
CHILD=
HOLDING=
cleanup() {
  # the whole process group: `go build` leaves its compile/link children running when it is killed
  if [[ -n "$CHILD" ]]; then kill -- "-$CHILD" 2>/dev/null || kill "$CHILD" 2>/dev/null || true; fi
  if [[ -n "$HOLDING" ]]; then : >"$LOCK" 2>/dev/null || true; fi
  return 0
}
trap cleanup EXIT
# a plain SIGTERM/SIGINT would end bash without the EXIT trap (leaving `go build` running and
# holding the lock): turn them into an exit
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

mkdir -p "$CACHE_ROOT"
if command -v flock >/dev/null 2>&1; then
  exec {LOCK_FD}>>"$LOCK"
  if ! flock -n "$LOCK_FD"; then
    holder="$(cat "$LOCK" 2>/dev/null || true)"
    say "another build holds $LOCK (${holder:-holder unknown}); waiting for it to finish ..."
    t_wait=$SECONDS t_said=$SECONDS
    until flock -w 5 "$LOCK_FD"; do  # short waits: a signal is acted on within 5 s
      if (( SECONDS - t_said >= 30 )); then
        say "still waiting for the other build ... $((SECONDS - t_wait)) s"; t_said=$SECONDS
      fi
    done
    say "the other build finished after $((SECONDS - t_wait)) s; checking what is still missing"
  fi
  HOLDING=1
  printf 'pid %s, checkout %s, since %s\n' "$$" "$(dirname "$HERE")" "$(date '+%F %T')" >"$LOCK"
else
  say "warning: flock(1) not found (util-linux); building without the lock"
fi

find_missing
if [[ ${#missing[@]} -eq 0 ]]; then
  say "all ${#BINARIES[@]} binaries present in $BIN (built by the other run; reusing, nothing to build)"
  echo "$BIN"; exit 0
fi

say "building ${missing[*]} into $BIN"
say "a first build of all seven: ~1.1 GB of modules; about 8 min on 2 cores for etcd, kube-apiserver,"
say "vc-scheduler and vc-controller-manager plus about 5 min for the other three (longer on slower"
say "machines or proxies; controlplane/BUILD-NOTES.md); progress is printed every 30 s"
mkdir -p "$BIN"

SETSID=()
if command -v setsid >/dev/null 2>&1; then SETSID=(setsid -w); fi

check_proxy() {  # $1 = module directory
  local name log
  name="$(basename "$1")"
  log="$BIN/../download-$name.log"
  if ! (cd "$1" && go mod download -x >/dev/null 2>"$log"); then
    tail -5 "$log" >&2
    die "could not download modules for $name (is the Go module proxy $(go env GOPROXY) reachable?)"
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

# `go build -v` prints the import path of each package it compiles (cached ones are not
# listed), one per line; errors and `# pkg` headers do not look like that.
count_pkgs() { grep -cE '^[A-Za-z0-9._~+-]+(/[A-Za-z0-9._~+-]+)*$' "$1" || true; }

build() {  # $1 = module dir, $2 = output name, $3 = package, rest = extra args
  local dir="$1" out="$2" pkg="$3"; shift 3
  [[ -x "$BIN/$out" ]] && { say "$out: present"; return; }
  say "$out: compiling $pkg ..."
  local t0=$SECONDS vlog="$BIN/../build-$out.log" pid n=0
  # one log per binary, truncated here: the heartbeat counts only this binary's packages.
  # setsid: own process group, so that cleanup can stop go's compile/link children too
  (cd "$dir" && exec ${SETSID[@]+"${SETSID[@]}"} go build -v "$@" -o "$BIN/$out.tmp" "$pkg") >"$vlog" 2>&1 &
  pid=$!
  CHILD=$pid
  while kill -0 "$pid" 2>/dev/null; do
    sleep 1
    if (( ++n % 30 == 0 )) && kill -0 "$pid" 2>/dev/null; then
      say "$out: still compiling ... $((SECONDS - t0)) s, $(count_pkgs "$vlog") packages compiled so far"
    fi
  done
  if ! wait "$pid"; then
    CHILD=
    grep -vE '^[A-Za-z0-9._~+-]+(/[A-Za-z0-9._~+-]+)*$' "$vlog" | tail -30 >&2 || true
    die "go build of $pkg failed (full log: $vlog)"
  fi
  CHILD=
  mv "$BIN/$out.tmp" "$BIN/$out"
  say "$out: done in $((SECONDS - t0)) s ($(du -h "$BIN/$out" | cut -f1), $(count_pkgs "$vlog") packages compiled)"
}

if is_missing etcd kube-apiserver kube-controller-manager; then
  say "checking module downloads (kube) ..."
  check_proxy "$HERE/go/kube"
  KLD="$(k8s_ldflags)"
  build "$HERE/go/kube" etcd go.etcd.io/etcd/server/v3 -ldflags "-s -w"
  build "$HERE/go/kube" kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver \
    -tags selinux,notest,grpcnotrace -ldflags "$KLD"
  build "$HERE/go/kube" kube-controller-manager k8s.io/kubernetes/cmd/kube-controller-manager \
    -tags selinux,notest,grpcnotrace -ldflags "$KLD"
fi

if is_missing vc-scheduler vc-controller-manager vc-webhook-manager; then
  say "checking module downloads (volcano) ..."
  "$HERE/go/volcano/prepare.sh" >&2
  check_proxy "$HERE/go/volcano"
  VCLD="-s -w -X volcano.sh/volcano/pkg/version.Version=${VOLCANO_VERSION}"
  build "$HERE/go/volcano" vc-scheduler volcano.sh/volcano/cmd/scheduler -ldflags "$VCLD"
  build "$HERE/go/volcano" vc-controller-manager volcano.sh/volcano/cmd/controller-manager -ldflags "$VCLD"
  build "$HERE/go/volcano" vc-webhook-manager volcano.sh/volcano/cmd/webhook-manager -ldflags "$VCLD"
fi

if is_missing "$KWOK_BIN"; then
  say "checking module downloads (kwok) ..."
  check_proxy "$HERE/go/kwok"
  # the version string is a constant in kwok's source (pkg/consts.Version), no -X needed
  build "$HERE/go/kwok" "$KWOK_BIN" sigs.k8s.io/kwok/cmd/kwok -ldflags "-s -w"
fi

"$BIN/kube-apiserver" --version >&2
say "build complete in $SECONDS s: $BIN"
echo "$BIN"
