#!/usr/bin/env bash
# Prepare the volcano.sh/apis module that vc-scheduler v1.15.1 is built against.
#
# Volcano v1.15.1 builds against its in-tree staging copy of volcano.sh/apis
# (`replace volcano.sh/apis => ./staging/src/volcano.sh/apis`), which the module
# zip does not contain, and the Go module proxy reachable here serves no
# volcano.sh/apis release newer than v1.14.0. We therefore take v1.14.0 from the
# proxy, copy it to a gitignored folder (./_apis) and add the few declarations
# Volcano v1.15.1 needs that v1.14.0 lacks (compat/, written for this project;
# see compat/README.md). The CRD schemas of v1.14.1 and v1.15.1 are identical,
# so no API type changes are involved.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
APIS_BASE_VERSION=v1.14.0
export GOTOOLCHAIN=local GOFLAGS=-mod=mod
STAMP="$HERE/_apis/.hypertopo-stamp"
WANT="$APIS_BASE_VERSION $(cd "$HERE/compat" && find . -type f -name '*.go' -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)"
if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$WANT" ]]; then exit 0; fi
SRC="$(cd "$HERE" && go mod download -json "volcano.sh/apis@$APIS_BASE_VERSION" 2>/dev/null \
  | python3 -c 'import json,sys; print(json.load(sys.stdin).get("Dir", ""))' 2>/dev/null || true)"
if [[ -z "$SRC" || ! -d "$SRC" ]]; then
  echo "build error: could not download volcano.sh/apis@$APIS_BASE_VERSION (is the Go module proxy $(go env GOPROXY) reachable?)" >&2
  exit 1
fi
rm -rf "$HERE/_apis"
cp -r "$SRC" "$HERE/_apis"
chmod -R u+w "$HERE/_apis"
(cd "$HERE/compat" && find . -type f -name '*.go' -print0 | while IFS= read -r -d '' f; do
  mkdir -p "$HERE/_apis/$(dirname "$f")"; cp "$f" "$HERE/_apis/$f"; done)
echo "$WANT" > "$STAMP"
echo "prepared volcano.sh/apis $APIS_BASE_VERSION + compat in $HERE/_apis"
