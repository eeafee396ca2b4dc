"""Kinds of resource names, as the API server's pod validation tells them apart.

Follows Kubernetes v1.35 ``pkg/apis/core/helper`` (``IsNativeResource``, ``IsExtendedResourceName``,
``IsOvercommitAllowed``, ``IsHugePageResourceName``): an extended resource (``nvidia.com/gpu``) is
counted in whole units and cannot be overcommitted, so a container that requests one must set
the same limit.
"""

from __future__ import annotations

import math
from fractions import Fraction

from hypertopo.topology.k8snames import dns1123_subdomain_error, label_value_error

_QUOTA_PREFIX = "requests."  # core.DefaultResourceRequestsPrefix


def is_native(name: str) -> bool:
    """No domain, or the ``kubernetes.io/`` one (``cpu``, ``memory``, ``hugepages-2Mi``...)."""
    return "/" not in name or "kubernetes.io/" in name


def is_hugepages(name: str) -> bool:
    return name.startswith("hugepages-")


def overcommit_allowed(name: str) -> bool:
    """A request may be below its limit (or set without one) only for these."""
    return is_native(name) and not is_hugepages(name)


def _qualified(name: str) -> bool:
    """k8s ``validation.IsQualifiedName``: ``[prefix/]name``, prefix a DNS subdomain."""
    prefix, _, short = name.rpartition("/")
    if "/" in prefix or (prefix and dns1123_subdomain_error(prefix)):
        return False
    return bool(short) and label_value_error(short) is None


def is_extended(name: str) -> bool:
    """A device plugin's or an operator's resource (``nvidia.com/gpu``): counted in whole units."""
    return not is_native(name) and not name.startswith(_QUOTA_PREFIX) and _qualified(_QUOTA_PREFIX + name)


def not_whole(name: str, quantity: Fraction) -> bool:
    """An extended resource's quantity the API server refuses as not an integer
    (``ValidateResourceQuantityValue``: its ``MilliValue()``, rounded up, not a multiple of 1000)."""
    return is_extended(name) and math.ceil(quantity * 1000) % 1000 != 0
