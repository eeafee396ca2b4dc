"""Resource lists in Volcano's units (``pkg/scheduler/api/resource_info.go``): sums and the fit check.

Amounts are integers in Volcano's units (see :mod:`.quantity`): milli-CPU, bytes, counts.
"""

from __future__ import annotations

from collections.abc import Mapping

Resources = dict[str, int]

#: Volcano's ``minResource``: amounts below it count as zero.
MIN_RESOURCE = 0.1


def add_into(target: Resources, other: Mapping[str, int]) -> None:
    for key, val in other.items():
        target[key] = target.get(key, 0) + val


def is_empty_request(res: Mapping[str, int]) -> bool:
    """Volcano ``Resource.IsEmpty`` (the ``pods`` count is ignored)."""
    return all(val < MIN_RESOURCE for key, val in res.items() if key != "pods")


def fits(request: Mapping[str, int], available: Mapping[str, int]) -> bool:
    """``Resource.LessEqual`` with Volcano's tolerance: ``request`` fits in ``available``."""
    for key, want in request.items():
        if want > available.get(key, 0) and want - available.get(key, 0) >= 0.1:
            return False
    return True


def short_resources(request: Mapping[str, int], available: Mapping[str, int]) -> list[str]:
    """The resources of ``request`` that ``available`` lacks."""
    return [
        key
        for key, want in request.items()
        if want > available.get(key, 0) and want - available.get(key, 0) >= 0.1
    ]
