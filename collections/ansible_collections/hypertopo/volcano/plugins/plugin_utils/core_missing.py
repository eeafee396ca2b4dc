# Copyright: hypertopo contributors
# Apache-2.0
"""The filters of hypertopo.volcano when the Python core (the pip package hypertopo) is missing.

Each filter file imports the core in a ``try``; without it, its ``FilterModule`` registers the same
names with a function that fails naming the missing package, so the plugins still load
(``ansible-doc``, ``ansible-test sanity``) and a play fails where it first uses one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ansible.errors import AnsibleFilterError


def missing_filters(error: ImportError) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """A stand-in for ``hypertopo.rollout.plain.plain_filters``: every filter fails with ``error``."""
    message = f"hypertopo.volcano needs the Python package hypertopo (requirements.txt): {error}"

    def fail(*_args: Any, **_kwargs: Any) -> Any:
        raise AnsibleFilterError(message)

    def filters(found: dict[str, Any]) -> dict[str, Any]:
        return dict.fromkeys(found, fail)

    return filters
