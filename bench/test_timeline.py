"""What each pytest worker ran, and when: the test files of a ``make integration`` (or ``make
unit``) run per worker, in order, with their start (minutes from the first test), length and CPU,
and each worker's end.

    .venv/bin/python bench/test_timeline.py [out/test-logs/integration-timeline.tsv]

The input is written by ``tests/cluster_plugin.py`` when ``$HYPERTOPO_TEST_TIMELINE`` is set
(``make unit`` and ``make integration`` set it): one line per test,
``worker<TAB>start<TAB>end<TAB>cpu<TAB>test id`` (CPU seconds of the worker and of the processes
it waited for). A lane that ends minutes after the
other is unbalanced: its last file started late. The files costing the most CPU come last.
"""

from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path

DEFAULT = Path(__file__).resolve().parents[1] / "out" / "test-logs" / "integration-timeline.tsv"


Span = tuple[str, float, float, float, int]  # file, start, end, CPU seconds, tests


def spans(path: Path) -> dict[str, list[Span]]:
    """Worker -> [(file, start, end, cpu, tests)], consecutive tests of a file merged."""
    rows = []
    for line in path.read_text().splitlines():
        worker, start, end, cpu, nodeid = line.split("\t", 4)
        rows.append((worker, float(start), float(end), float(cpu), nodeid.split("::", 1)[0]))
    out: dict[str, list[Span]] = defaultdict(list)
    for worker, start, end, cpu, name in sorted(rows, key=lambda r: (r[0], r[1])):
        runs = out[worker]
        if runs and runs[-1][0] == name:
            _, first, _, used, count = runs[-1]
            runs[-1] = (name, first, end, used + cpu, count + 1)
        else:
            runs.append((name, start, end, cpu, 1))
    return dict(out)


def main(argv: list[str]) -> int:
    path = Path(argv[0]) if argv else DEFAULT
    if not path.exists():
        print(f"no timeline at {path} (run make integration first)", file=sys.stderr)
        return 2
    by_worker = spans(path)
    t0 = min(span[1] for runs in by_worker.values() for span in runs)
    for worker, runs in sorted(by_worker.items()):
        end = max(span[2] for span in runs)
        cpu = sum(span[3] for span in runs)
        print(f"{worker}: {len(runs)} file(s), ends at {(end - t0) / 60:.1f} min, {cpu / 60:.1f} CPU-min")
        for name, start, stop, used, count in runs:
            print(
                f"  {(start - t0) / 60:5.1f} min  {stop - start:6.0f} s  {used:6.0f} s CPU  "
                f"{count:3d} test(s)  {name}"
            )
    print("by CPU:")
    every = sorted((span for runs in by_worker.values() for span in runs), key=lambda s: s[3])
    for name, start, stop, used, _count in every[-12:]:
        print(f"  {used:6.0f} s CPU  {stop - start:6.0f} s  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
