"""Volcano's ``Statement`` (``framework/statement.go``): tentative allocations that can be undone.

An :class:`Op` puts a task on a node as ``Allocated`` or ``Pipelined``; a statement applies
ops to the session state as they are made and :meth:`Statement.discard` reverts them in
reverse order (a dry run that did not make the gang ready, or lost to another HyperNode).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hypertopo.placement.model import PENDING, Task
from hypertopo.placement.state import Cluster


@dataclass(slots=True)
class Op:
    task: Task
    node: int
    status: str  # Allocated | Pipelined
    tie: dict[str, Any] | None = None


def allocate(cluster: Cluster, op: Op) -> None:
    """Put ``op.task`` on ``op.node`` with ``op.status`` (node, job and subjob bookkeeping)."""
    task = op.task
    cluster.place(op.node, task.on_node, task.resreq, op.status)
    task.job.set_status(task, op.status)
    task.node = op.node
    task.tie = op.tie
    task.subjob.count_on_node(op.node, cluster.tree.node_hns[op.node], 1)


def unallocate(cluster: Cluster, op: Op) -> None:
    """Undo :func:`allocate`: the task is Pending again."""
    task = op.task
    cluster.unplace(op.node, task.on_node, task.resreq, op.status)
    task.job.set_status(task, PENDING)
    task.node = None
    task.tie = None
    task.subjob.count_on_node(op.node, cluster.tree.node_hns[op.node], -1)


class Statement:
    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.ops: list[Op] = []

    def apply(self, op: Op) -> None:
        allocate(self.cluster, op)
        self.ops.append(op)

    def discard(self) -> None:
        for op in reversed(self.ops):
            unallocate(self.cluster, op)
        self.ops = []
