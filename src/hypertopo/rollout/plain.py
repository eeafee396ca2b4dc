"""Plain-data conversion at the Ansible boundary.

Ansible 2.19 hands filters its own lazy, tagged containers. Returning those (or
deep-copying them) is very slow on cluster-sized inputs, so every filter converts its
inputs to plain JSON data once, up front (the onboarding benchmark,
``bench/RESULTS-onboarding.md``, measures what that conversion costs).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping
from typing import Any


def plain(value: Any) -> Any:
    """``value`` as plain dicts, lists, str, int, float, bool and None."""
    return json.loads(json.dumps(value, default=str))


def plain_args(func: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a filter so that every argument reaches it as plain data."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return func(*(plain(a) for a in args), **{k: plain(v) for k, v in kwargs.items()})

    return wrapper


def plain_filters(funcs: Mapping[str, Callable[..., Any]]) -> dict[str, Callable[..., Any]]:
    """A filter plugin's ``filters()`` mapping, every filter wrapped with :func:`plain_args`."""
    return {name: plain_args(func) for name, func in funcs.items()}
