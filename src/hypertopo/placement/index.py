"""Node lookup by name and by label, built lazily for the label keys that are asked for.

Selecting nodes by ``key In [values]`` then costs the size of the answer instead
of a scan over every node (how that scales: ``bench/RESULTS-engine.md``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from hypertopo.placement.goregexp import GoRegexp
from hypertopo.placement.objects import Node
from hypertopo.placement.selectors import LabelRequirement, LabelSelector, NodeSelectorTerm


class NodeIndex:
    def __init__(self, nodes: Sequence[Node]) -> None:
        self.nodes = nodes
        self.by_name: dict[str, int] = {}
        for node in nodes:
            self.by_name[node.name] = node.index
        self._by_label: dict[str, dict[str, list[int]]] = {}
        self._regex_cache: dict[str, list[int]] = {}
        self._sets: dict[tuple[str, str], frozenset[int]] = {}

    def label_values(self, key: str) -> dict[str, list[int]]:
        table = self._by_label.get(key)
        if table is None:
            table = {}
            for node in self.nodes:
                value = node.labels.get(key)
                if value is not None:
                    bucket = table.get(value)
                    if bucket is None:
                        table[value] = [node.index]
                    else:
                        bucket.append(node.index)
            self._by_label[key] = table
        return table

    def label_set(self, key: str, value: str) -> frozenset[int]:
        cache_key = (key, value)
        got = self._sets.get(cache_key)
        if got is None:
            got = frozenset(self.label_values(key).get(value, ()))
            self._sets[cache_key] = got
        return got

    def _candidates(self, requirements: Iterable[LabelRequirement]) -> list[int] | None:
        """Smallest candidate list from an indexable requirement (In / Exists), or None."""
        best: list[int] | None = None
        for req in requirements:
            if req.operator == "In":
                table = self.label_values(req.key)
                cand: list[int] = []
                for value in req.values:
                    cand.extend(table.get(value, ()))
                if len(req.values) > 1:
                    cand.sort()
            elif req.operator == "Exists":
                cand = sorted(i for bucket in self.label_values(req.key).values() for i in bucket)
            else:
                continue
            if best is None or len(cand) < len(best):
                best = cand
        return best

    def select_labels(self, selector: LabelSelector) -> list[int]:
        """Nodes matching a label selector (an empty selector matches every node)."""
        reqs = selector.requirements
        if reqs and all(r.operator == "In" and len(r.values) == 1 for r in reqs):
            # matchLabels: intersect the (cached) per-label sets, smallest first
            lists = sorted((self.label_values(r.key).get(r.values[0], []) for r in reqs), key=len)
            sets = [self.label_set(r.key, r.values[0]) for r in reqs]
            if len(sets) == 1:
                return list(lists[0])
            return [i for i in lists[0] if all(i in s for s in sets)]
        cand = self._candidates(reqs)
        pool = cand if cand is not None else range(len(self.nodes))
        nodes = self.nodes
        return [i for i in pool if selector.matches(nodes[i].labels)]

    def select_term(self, term: NodeSelectorTerm) -> list[int]:
        """Nodes matching a node-affinity term."""
        if not term.expressions and not term.fields:
            return []
        cand = self._candidates(term.expressions)
        for req in term.fields:
            if req.operator == "In":
                named = sorted(self.by_name[v] for v in req.values if v in self.by_name)
                if cand is None or len(named) < len(cand):
                    cand = named
        pool = cand if cand is not None else range(len(self.nodes))
        nodes = self.nodes
        return [i for i in pool if term.matches(nodes[i].name, nodes[i].labels)]

    def select_regex(self, pattern: GoRegexp) -> list[int]:
        """Nodes whose name ``pattern`` matches anywhere (Go's ``MatchString``); raises the
        pattern's :class:`~hypertopo.placement.goregexp.RegexLimitError` past its work budget."""
        cached = self._regex_cache.get(pattern.pattern)
        if cached is None:
            cached = [node.index for node in self.nodes if pattern.search(node.name)]
            self._regex_cache[pattern.pattern] = cached
        return cached
