"""Read Nodes and HyperNodes from the live cluster (read only), with the project's REST client."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from hypertopo.cluster.live import list_all
from hypertopo.cluster.rest import Rest
from hypertopo.importer.facts import SourceError

HYPERNODES_PATH = "/apis/topology.volcano.sh/v1alpha1/hypernodes"


def _rest(kubeconfig: str | None, context: str | None) -> tuple[Rest, str]:
    path = (
        kubeconfig
        or os.environ.get("KUBECONFIG", "").split(os.pathsep)[0]
        or str(Path.home() / ".kube" / "config")
    )
    try:
        return Rest.from_kubeconfig(path, context=context), path
    except Exception as exc:  # any kubeconfig problem is bad input
        raise SourceError([f"{path}: cannot use this kubeconfig ({type(exc).__name__}: {exc})"]) from None


def live_nodes(kubeconfig: str | None, context: str | None) -> tuple[list[dict[str, Any]], str]:
    rest, path = _rest(kubeconfig, context)
    return list_all(rest, "/api/v1/nodes"), f"cluster ({path})"


def live_hypernodes(kubeconfig: str | None, context: str | None) -> list[dict[str, Any]]:
    rest, _path = _rest(kubeconfig, context)
    return list_all(rest, HYPERNODES_PATH)
