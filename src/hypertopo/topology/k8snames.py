"""Kubernetes name and label-value rules (apimachinery validation, restated)."""

from __future__ import annotations

import re

_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")


def dns1123_label_error(value: str) -> str | None:
    """Why ``value`` is not a DNS-1123 label (<= 63 chars, [a-z0-9-]), or None."""
    if len(value) > 63:
        return f"'{value}' is longer than 63 characters"
    if not _DNS1123_LABEL.match(value):
        return f"'{value}' is not a DNS-1123 label ([a-z0-9-], alphanumeric at both ends)"
    return None


def dns1123_subdomain_error(value: str) -> str | None:
    """Why ``value`` is not a DNS-1123 subdomain (a valid Node name), or None."""
    if len(value) > 253:
        return f"'{value}' is longer than 253 characters"
    if not _DNS1123_SUBDOMAIN.match(value):
        return f"'{value}' is not a valid Kubernetes object name (lower-case DNS-1123 subdomain)"
    return None


def label_value_error(value: str) -> str | None:
    """Why ``value`` is not a valid label value (<= 63 chars), or None."""
    if len(value) > 63:
        return f"label value '{value}' is longer than 63 characters"
    if not _LABEL_VALUE.match(value):
        return f"'{value}' is not a valid label value ([A-Za-z0-9-_.], alphanumeric at both ends)"
    return None
