#!/usr/bin/env bash
# Run every molecule scenario (`molecule test -s <name>`), one after the other,
# and exit non-zero if any of them fails. Used by `make molecule` / `make test`.
#
#   molecule/run-all.sh              all scenarios
#   molecule/run-all.sh hypernodes   only the named ones
#
# Each scenario brings the local control plane up if it is not running (its
# `create` step) and stops it again only if it started it (`destroy`). So that the
# scenarios share one control plane (a start with 256 nodes and its stop cost
# about half a minute each), this script runs the same `create` once before the
# first scenario and the same `destroy` after the last: a control plane it
# started is stopped at the end, one that was already running is left alone.
# The molecule cluster has its own state directory (HYPERTOPO_MOLECULE_CLUSTER_DIR,
# default ~/.cache/hypertopo/molecule-<hash of the checkout path>), see molecule/README.md.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# molecule calls ansible-config & co. by name: the venv's bin must come first.
export PATH="$ROOT/.venv/bin:$PATH"
command -v molecule >/dev/null 2>&1 || { echo "run-all.sh: molecule not found (run 'make venv')" >&2; exit 2; }

if [[ $# -gt 0 ]]; then
  scenarios=("$@")
else
  # The per-role scenarios first, the whole onboarding sequence last.
  scenarios=(node_labels hypernodes scheduler_config pd_services onboarding)
  for f in molecule/*/molecule.yml; do
    name="$(basename "$(dirname "$f")")"
    [[ " ${scenarios[*]} " == *" $name "* ]] || scenarios+=("$name")
  done
fi

# The shared playbooks read the project directory from molecule's environment.
export MOLECULE_PROJECT_DIRECTORY="$ROOT"
shared_state="$(mktemp -d)"
shared() {
  ansible-playbook -i localhost, -c local "molecule/_shared/$1.yml" \
    -e "molecule_ephemeral_directory=$shared_state" >"$shared_state/$1.log" 2>&1
}
finish() {
  shared destroy || { echo "run-all.sh: stopping the control plane failed:" >&2; cat "$shared_state/destroy.log" >&2; }
  rm -rf "$shared_state"
}
echo "=== the local control plane for every scenario (molecule/_shared/create.yml)"
if ! shared create; then
  cat "$shared_state/create.log" >&2
  echo "run-all.sh: the local control plane could not start" >&2
  exit 1
fi
trap finish EXIT

failed=()
for s in "${scenarios[@]}"; do
  echo "=== molecule test -s $s"
  start=$SECONDS
  # A run that was cut short leaves molecule's state saying "created"; molecule would then
  # skip `create` against a control plane that no longer runs. Start from a clean state.
  molecule reset -s "$s" >/dev/null 2>&1 || true
  if molecule test -s "$s"; then
    echo "=== $s: passed in $((SECONDS - start)) s"
  else
    echo "=== $s: FAILED after $((SECONDS - start)) s" >&2
    failed+=("$s")
  fi
done

if [[ ${#failed[@]} -gt 0 ]]; then
  echo "molecule: ${#failed[@]} of ${#scenarios[@]} scenario(s) failed: ${failed[*]}" >&2
  exit 1
fi
echo "molecule: all ${#scenarios[@]} scenario(s) passed"
