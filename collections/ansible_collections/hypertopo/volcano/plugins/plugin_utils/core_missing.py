# Copyright: hypertopo contributors
# Apache-2.0
"""The plugins of hypertopo.volcano when the Python core (the pip package hypertopo) is missing.

Each filter and action plugin imports the core in a ``try``, so the plugins still load without it
(``ansible-doc``, ``ansible-test sanity``) and a play fails where it first uses one, naming the
missing package (:func:`missing_core_message`, the one wording): a filter file's ``FilterModule``
registers its names with a function that fails (:func:`missing_filters`); an action plugin's
``run`` starts with :func:`require_core`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ansible.errors import AnsibleActionFail, AnsibleFilterError


def missing_core_message(error: ImportError) -> str:
    """What a plugin says when the core did not import."""
    return f"hypertopo.volcano needs the Python package hypertopo (requirements.txt): {error}"


def require_core(error: ImportError | None) -> None:
    """An action plugin's first step: fail the task naming the missing package, unless ``error`` is None."""
    if error is not None:
        raise AnsibleActionFail(missing_core_message(error))


def missing_filters(error: ImportError) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """A stand-in for ``hypertopo.rollout.plain.plain_filters``: every filter fails with ``error``."""
    message = missing_core_message(error)

    def fail(*_args: Any, **_kwargs: Any) -> Any:
        raise AnsibleFilterError(message)

    def filters(found: dict[str, Any]) -> dict[str, Any]:
        return dict.fromkeys(found, fail)

    return filters
