"""What each pytest worker ran, and when: the test files of a ``make integration`` run per worker,
in order, with their start (minutes from the first test) and length, and each worker's end.

    .venv/bin/python bench/test_timeline.py [out/test-logs/integration-timeline.tsv]

The input is written by ``tests/cluster_plugin.py`` when ``$HYPERTOPO_TEST_TIMELINE`` is set
(``make integration`` sets it): one line per test, ``worker<TAB>start<TAB>end<TAB>test id``.
A lane that ends minutes after the other is unbalanced: its last file started late.
"""

from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path

DEFAULT = Path(__file__).resolve().parents[1] / "out" / "test-logs" / "integration-timeline.tsv"


def spans(path: Path) -> dict[str, list[tuple[str, float, float, int]]]:
    """Worker -> [(file, start, end, tests)], consecutive tests of a file merged."""
    rows = []
    for line in path.read_text().splitlines():
        worker, start, end, nodeid = line.split("\t", 3)
        rows.append((worker, float(start), float(end), nodeid.split("::", 1)[0]))
    out: dict[str, list[tuple[str, float, float, int]]] = defaultdict(list)
    for worker, start, end, name in sorted(rows, key=lambda r: (r[0], r[1])):
        runs = out[worker]
        if runs and runs[-1][0] == name:
            _, first, _, count = runs[-1]
            runs[-1] = (name, first, end, count + 1)
        else:
            runs.append((name, start, end, 1))
    return dict(out)


def main(argv: list[str]) -> int:
    path = Path(argv[0]) if argv else DEFAULT
    if not path.exists():
        print(f"no timeline at {path} (run make integration first)", file=sys.stderr)
        return 2
    by_worker = spans(path)
    t0 = min(start for runs in by_worker.values() for _n, start, _e, _c in runs)
    for worker, runs in sorted(by_worker.items()):
        end = max(e for _n, _s, e, _c in runs)
        print(f"{worker}: {len(runs)} file(s), ends at {(end - t0) / 60:.1f} min")
        for name, start, stop, count in runs:
            print(f"  {(start - t0) / 60:5.1f} min  {stop - start:6.0f} s  {count:3d} test(s)  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
