"""Network cost of a placement: pair classes, latency, bandwidth and KV-cache transfer time.

Pair class of two pods (on nodes ``a`` and ``b``), from the HyperNode tree and the
node's switch-type label (``ib``/``ethernet``; the keys are :mod:`hypertopo.topology.labels`'):

* leaf(n) = the node's lowest-tier HyperNode (Volcano's ``FindHyperNodeForNode``);
  for a node in no HyperNode its switch label stands in;
* fabric(h) of a HyperNode = ``ib`` when every node under it is IB, ``ethernet``
  when every node is Ethernet, else ``mixed``;
* both IB, same leaf (incl. the same node)      -> ``same_ib_leaf``;
* both IB, LCA(leaf a, leaf b) is IB-only       -> ``same_ib_aggregation``;
* both IB but the LCA spans Ethernet (two IB islands joined through an Ethernet
  core), or one IB and one Ethernet             -> ``ib_ethernet``;
* both Ethernet (any LCA)                        -> ``ethernet_ethernet``.

A node without the switch-type label counts as Ethernet (and is reported).
Latency and bandwidth per class come from the seed's table (representative
values: the middle of each range; the ranges are carried along) and can be
overridden with ``network.classes.<class>.{bandwidth_gbps,latency_us}``.

KV cache per request = 2 (K and V) x layers x KV heads x head dim x dtype bytes x
prompt tokens (default Llama-70B-class: 80 x 8 x 128 x 2 B = 320 KiB/token,
4,096 tokens = 1.25 GiB). Transfer time of one prefill->decode pair =
latency + bytes / bandwidth, plus, for every end on a GPU without GPUDirect RDMA
(GeForce RTX 4090/5090: GPU-type label in ``no_gpudirect``), one host-memory staging
copy (bytes / ``host_copy.bandwidth_gbps`` + ``host_copy.latency_us``) in series:
a conservative model of the bounce buffer, not of a pipelined copy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hypertopo.placement.errors import PlacementInputError, shown
from hypertopo.placement.objects import Node
from hypertopo.placement.tree import VIRTUAL_ROOT, Tree
from hypertopo.topology.labels import LABEL_GPU_TYPE, LABEL_SWITCH, LABEL_SWITCH_TYPE

SAME_IB_LEAF = "same_ib_leaf"
SAME_IB_AGG = "same_ib_aggregation"
IB_ETH = "ib_ethernet"
ETH_ETH = "ethernet_ethernet"
CLASSES = (SAME_IB_LEAF, SAME_IB_AGG, IB_ETH, ETH_ETH)

#: The seed's network table (article section 1.1): representative value and range.
DEFAULT_CLASSES: dict[str, dict[str, Any]] = {
    SAME_IB_LEAF: {
        "bandwidth_gbps": 200.0,
        "latency_us": 1.5,
        "bandwidth_range": [200, 200],
        "latency_range": [0, 2],
    },
    SAME_IB_AGG: {
        "bandwidth_gbps": 200.0,
        "latency_us": 3.5,
        "bandwidth_range": [200, 200],
        "latency_range": [2, 5],
    },
    IB_ETH: {
        "bandwidth_gbps": 100.0,
        "latency_us": 7.5,
        "bandwidth_range": [100, 100],
        "latency_range": [5, 10],
    },
    ETH_ETH: {
        "bandwidth_gbps": 55.0,
        "latency_us": 12.0,
        "bandwidth_range": [10, 100],
        "latency_range": [10, None],
    },
}
DTYPE_BYTES = {
    "fp32": 4,
    "float32": 4,
    "fp16": 2,
    "float16": 2,
    "bf16": 2,
    "bfloat16": 2,
    "fp8": 1,
    "int8": 1,
}
DEFAULT_NO_GPUDIRECT = ("rtx4090", "rtx5090")


def _no_gpudirect_default() -> list[str]:
    """GPU models without GPUDirect RDMA: the project's catalogue when available."""
    try:
        from hypertopo.topology.gpus import BUILTIN_GPU_MODELS

        return sorted(m.label for m in BUILTIN_GPU_MODELS.values() if not m.gpudirect_rdma)
    except (ImportError, AttributeError):  # pragma: no cover - catalogue absent
        return list(DEFAULT_NO_GPUDIRECT)


@dataclass(frozen=True, slots=True)
class KvModel:
    layers: int = 80
    kv_heads: int = 8
    head_dim: int = 128
    dtype_bytes: int = 2
    prompt_tokens: int = 4096

    @property
    def bytes_per_token(self) -> int:
        return 2 * self.layers * self.kv_heads * self.head_dim * self.dtype_bytes

    @property
    def bytes_per_request(self) -> int:
        return self.bytes_per_token * self.prompt_tokens

    def as_dict(self) -> dict[str, Any]:
        return {
            "layers": self.layers,
            "kv_heads": self.kv_heads,
            "head_dim": self.head_dim,
            "dtype_bytes": self.dtype_bytes,
            "prompt_tokens": self.prompt_tokens,
            "kv_bytes_per_token": self.bytes_per_token,
            "kv_bytes_per_request": self.bytes_per_request,
        }


@dataclass(slots=True)
class NetworkModel:
    classes: dict[str, dict[str, Any]]
    kv: KvModel
    switch_type_label: str = LABEL_SWITCH_TYPE
    gpu_type_label: str = LABEL_GPU_TYPE
    no_gpudirect: frozenset[str] = frozenset(DEFAULT_NO_GPUDIRECT)
    host_copy_gbps: float = 200.0
    host_copy_latency_us: float = 10.0
    roles: dict[str, tuple[str, ...]] = field(
        default_factory=lambda: {"prefill": ("prefill",), "decode": ("decode",)}
    )


#: The largest number a network or KV-cache field takes (products of them stay finite floats).
MAX_FIELD = 10**15


def _positive(value: Any, where: str, *, integer: bool = False) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not 0 < value <= MAX_FIELD  # also refuses NaN
        or (integer and value != int(value))
    ):
        kind = "a positive integer" if integer else "a positive number"
        raise PlacementInputError(f"{where}: must be {kind} up to {MAX_FIELD:.0e}, got {shown(value)}")
    return value


def kv_model_from(raw: Mapping[str, Any] | None) -> KvModel:
    if raw is None:
        return KvModel()
    if not isinstance(raw, Mapping):
        raise PlacementInputError("kv_model: must be a mapping")
    known = {"layers", "kv_heads", "head_dim", "dtype", "dtype_bytes", "prompt_tokens"}
    for key in raw:
        if key not in known:
            raise PlacementInputError(f"kv_model.{key}: unknown field (one of {', '.join(sorted(known))})")
    dtype_bytes = 2
    if "dtype" in raw:
        dtype = str(raw["dtype"]).lower()
        if dtype not in DTYPE_BYTES:
            raise PlacementInputError(
                f"kv_model.dtype: unknown dtype {raw['dtype']!r} (one of {', '.join(DTYPE_BYTES)})"
            )
        dtype_bytes = DTYPE_BYTES[dtype]
    if "dtype_bytes" in raw:
        dtype_bytes = int(_positive(raw["dtype_bytes"], "kv_model.dtype_bytes", integer=True))
    values = {
        k: int(_positive(raw[k], f"kv_model.{k}", integer=True))
        for k in ("layers", "kv_heads", "head_dim", "prompt_tokens")
        if k in raw
    }
    return KvModel(dtype_bytes=dtype_bytes, **values)


def network_model_from(network: Mapping[str, Any] | None, kv_model: Mapping[str, Any] | None) -> NetworkModel:
    net = network or {}
    if not isinstance(net, Mapping):
        raise PlacementInputError("network: must be a mapping")
    classes = {name: dict(spec) for name, spec in DEFAULT_CLASSES.items()}
    overrides = net.get("classes") or {}
    if not isinstance(overrides, Mapping):
        raise PlacementInputError(
            "network.classes: must be a mapping of class name to {bandwidth_gbps, latency_us}"
        )
    for name, spec in overrides.items():
        if name not in classes:
            raise PlacementInputError(f"network.classes.{name}: unknown class (one of {', '.join(CLASSES)})")
        if not isinstance(spec, Mapping):
            raise PlacementInputError(f"network.classes.{name}: must be a mapping")
        for key, value in spec.items():
            if key in ("bandwidth_gbps", "latency_us"):
                classes[name][key] = float(_positive(value, f"network.classes.{name}.{key}"))
                classes[name].pop(key.split("_")[0] + "_range", None)
            else:
                raise PlacementInputError(
                    f"network.classes.{name}.{key}: unknown field (bandwidth_gbps, latency_us)"
                )
    kv_raw = kv_model if kv_model is not None else net.get("kv_model")
    model = NetworkModel(classes=classes, kv=kv_model_from(kv_raw))
    for key in ("switch_type_label", "gpu_type_label"):
        if key in net:
            if not isinstance(net[key], str) or not net[key]:
                raise PlacementInputError(f"network.{key}: must be a label key")
            setattr(model, key, net[key])
    no_gd = net.get("no_gpudirect")
    if no_gd is None:
        model.no_gpudirect = frozenset(_no_gpudirect_default())
    else:
        if not isinstance(no_gd, list) or not all(isinstance(v, str) for v in no_gd):
            raise PlacementInputError("network.no_gpudirect: must be a list of gpu-type label values")
        model.no_gpudirect = frozenset(v.lower() for v in no_gd)
    host = net.get("host_copy") or {}
    if not isinstance(host, Mapping):
        raise PlacementInputError("network.host_copy: must be a mapping with bandwidth_gbps and latency_us")
    if "bandwidth_gbps" in host:
        model.host_copy_gbps = float(_positive(host["bandwidth_gbps"], "network.host_copy.bandwidth_gbps"))
    if "latency_us" in host:
        model.host_copy_latency_us = float(_positive(host["latency_us"], "network.host_copy.latency_us"))
    roles = net.get("roles")
    if roles is not None:
        if not isinstance(roles, Mapping) or set(roles) - {"prefill", "decode"}:
            raise PlacementInputError("network.roles: must map prefill/decode to lists of name substrings")
        for role, words in roles.items():
            if not isinstance(words, list) or not all(isinstance(w, str) and w for w in words):
                raise PlacementInputError(f"network.roles.{role}: must be a list of non-empty strings")
            model.roles[role] = tuple(w.lower() for w in words)
    return model


def pd_role(roles: Mapping[str, str | Sequence[str]], *names: str) -> str | None:
    """The PD role of a pod: the first role of ``roles`` (role -> its word or words) one of whose
    words is in the first of ``names`` (task name, then job name) that contains any role word."""
    for name in names:
        low = name.lower()
        for role, words in roles.items():
            if any(word.lower() in low for word in ((words,) if isinstance(words, str) else words)):
                return role
    return None


class PairClassifier:
    def __init__(self, tree: Tree, nodes: Sequence[Node], model: NetworkModel) -> None:
        self.tree = tree
        self.nodes = nodes
        self.model = model
        self._fabric: dict[str, str] = {}
        self.unlabelled: set[str] = set()

    def switch_type(self, i: int) -> str:
        raw = self.nodes[i].labels.get(self.model.switch_type_label, "").lower()
        if raw in ("ib", "infiniband"):
            return "ib"
        if raw in ("ethernet", "eth", "roce"):
            return "ethernet"
        self.unlabelled.add(self.nodes[i].name)
        return "ethernet"

    def gpudirect(self, i: int) -> bool:
        return self.nodes[i].labels.get(self.model.gpu_type_label, "").lower() not in self.model.no_gpudirect

    def leaf(self, i: int) -> str:
        leaf = self.tree.node_leaf[i]
        if leaf is None or leaf == VIRTUAL_ROOT:
            switch = self.nodes[i].labels.get(LABEL_SWITCH)
            return f"switch:{switch}" if switch else f"node:{self.nodes[i].name}"
        return leaf

    def fabric(self, hn: str) -> str:
        got = self._fabric.get(hn)
        if got is None:
            kinds = {self.switch_type(i) for i in self.tree.hypernodes[hn].nodes}
            got = kinds.pop() if len(kinds) == 1 else "mixed"
            self._fabric[hn] = got
        return got

    def classify(self, a: int, b: int) -> tuple[str, int | None]:
        """(class, LCA tier) of nodes ``a`` and ``b``."""
        ta, tb = self.switch_type(a), self.switch_type(b)
        la, lb = self.leaf(a), self.leaf(b)
        tree = self.tree
        if la in tree.hypernodes and lb in tree.hypernodes:
            lca = tree.lca(la, lb)
            tier = tree.tier(lca) if lca else None
        else:
            lca, tier = None, None
        if ta == "ib" and tb == "ib":
            if la == lb or a == b:
                return SAME_IB_LEAF, tier
            if lca is None or (lca == VIRTUAL_ROOT and not tree.has_real_hypernodes):
                return SAME_IB_AGG, tier
            return (SAME_IB_AGG if self.fabric(lca) == "ib" else IB_ETH), tier
        if ta == "ethernet" and tb == "ethernet":
            return ETH_ETH, tier
        return IB_ETH, tier


def _stats(values: list[tuple[float, int]], worst: str) -> dict[str, float]:
    total = sum(w for _, w in values)
    mean = sum(v * w for v, w in values) / total if total else 0.0
    pick = max if worst == "max" else min
    return {"mean": round(mean, 4), "worst": round(pick(v for v, _ in values), 4)}


def kv_transfer_ms(model: NetworkModel, cls: str, staged_ends: int) -> float:
    spec = model.classes[cls]
    size = model.kv.bytes_per_request * 8
    ms = spec["latency_us"] / 1000 + size / (spec["bandwidth_gbps"] * 1e9) * 1000
    ms += staged_ends * (size / (model.host_copy_gbps * 1e9) * 1000 + model.host_copy_latency_us / 1000)
    return ms


def pair_summary(
    classifier: PairClassifier, left: Sequence[int], right: Sequence[int] | None, *, kv: bool
) -> dict[str, Any] | None:
    """Classes, latency and bandwidth (and KV time) over pod pairs.

    ``right`` None: the unordered pairs within ``left``; else every left x right pair.
    Pods are given by node index (one entry per pod).
    """
    model = classifier.model
    groups: dict[tuple[int, bool], list[int]] = {}
    keys: dict[int, tuple[str, str, bool]] = {}

    def key_of(i: int) -> tuple[str, str, bool]:
        got = keys.get(i)
        if got is None:
            got = (classifier.leaf(i), classifier.switch_type(i), classifier.gpudirect(i))
            keys[i] = got
        return got

    def group(nodes: Sequence[int]) -> dict[int, int]:
        counts: dict[int, int] = {}
        for i in nodes:
            counts[i] = counts.get(i, 0) + 1
        return counts

    lg = group(left)
    pairs: list[tuple[int, int, int]] = []
    if right is None:
        items = list(lg.items())
        for x, (a, ca) in enumerate(items):
            if ca > 1:
                pairs.append((a, a, ca * (ca - 1) // 2))
            for b, cb in items[x + 1 :]:
                pairs.append((a, b, ca * cb))
    else:
        rg = group(right)
        for a, ca in lg.items():
            for b, cb in rg.items():
                pairs.append((a, b, ca * cb))
    del groups
    if not pairs:
        return None
    memo: dict[tuple[Any, ...], tuple[str, int | None]] = {}
    classes: dict[str, int] = {}
    lat: list[tuple[float, int]] = []
    bw: list[tuple[float, int]] = []
    kv_ms: list[tuple[float, int]] = []
    staged_pairs = 0
    for a, b, weight in pairs:
        ka, kb = key_of(a), key_of(b)
        mkey = (ka, kb, a == b)
        got = memo.get(mkey)
        if got is None:
            got = classifier.classify(a, b)
            memo[mkey] = got
        cls, _tier = got
        classes[cls] = classes.get(cls, 0) + weight
        spec = model.classes[cls]
        lat.append((spec["latency_us"], weight))
        bw.append((spec["bandwidth_gbps"], weight))
        if kv:
            staged = (not ka[2]) + (not kb[2])
            if staged:
                staged_pairs += weight
            kv_ms.append((kv_transfer_ms(model, cls, staged), weight))
    count = sum(classes.values())
    out: dict[str, Any] = {
        "pairs": count,
        "classes": {c: classes[c] for c in CLASSES if c in classes},
        "latency_us": _stats(lat, "max"),
        "bandwidth_gbps": _stats(bw, "min"),
    }
    if kv:
        out["kv_transfer_ms"] = _stats(kv_ms, "max")
        out["host_staged_pairs"] = staged_pairs
    return out


def role_network(
    classifier: PairClassifier, prefill: Sequence[int], decode: Sequence[int]
) -> dict[str, Any] | None:
    """The article's comparison rows: prefill-internal, decode-internal and prefill-decode."""
    if not prefill and not decode:
        return None
    out: dict[str, Any] = {"prefill_pods": len(prefill), "decode_pods": len(decode)}
    if prefill:
        out["prefill_internal"] = pair_summary(classifier, prefill, None, kv=False)
    if decode:
        out["decode_internal"] = pair_summary(classifier, decode, None, kv=False)
    if prefill and decode:
        out["prefill_decode"] = pair_summary(classifier, prefill, decode, kv=True)
    out["kv_model"] = classifier.model.kv.as_dict()
    return out


def ethernet_fraction(classifier: PairClassifier, nodes: Sequence[int]) -> float:
    if not nodes:
        return 0.0
    return sum(1 for i in nodes if classifier.switch_type(i) == "ethernet") / len(nodes)
