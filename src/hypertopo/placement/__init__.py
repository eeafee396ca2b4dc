"""Volcano-faithful placement prediction for network-topology-aware scheduling.

``predict(jobs=..., nodes=..., hypernodes=..., pods=..., scheduler_conf=..., network=..., kv_model=...,
priority_classes=...)`` returns a JSON-serialisable dict; ``preflight(result)`` turns it into a table
and a verdict; ``coerce_scheduler_conf(value)`` reads a scheduler configuration from YAML text or a ConfigMap.

The package follows Volcano v1.15.1's own layout (``pkg/scheduler``):

* inputs: :mod:`.inputs` (list shapes), :mod:`.fields`, :mod:`.quantity`, :mod:`.resources`,
  :mod:`.selectors`, :mod:`.podspec`, :mod:`.objects` (Nodes, Pods, HyperNodes), :mod:`.jobs`
  (Volcano Jobs, Deployments, PodGroups as the controllers see them), :mod:`.conf`
  (``volcano-scheduler.conf``);
* live cluster states (deleted and NotReady nodes, terminating, finished and foreign pods,
  priorities, preempt/reclaim): ``docs/live-states.md``; :mod:`.evictions`;
* the world and its state: :mod:`.world`, :mod:`.index` (nodes by label), :mod:`.tree` (the
  HyperNode tree, ``api/hyper_node_info.go``), :mod:`.model` (``api/job_info.go``),
  :mod:`.state` (``api/node_info.go``);
* the scheduler: :mod:`.snapshot` (cache snapshot, ``OpenSession``), :mod:`.session` (sessions
  one after the other), :mod:`.scheduler` (what lives across sessions), :mod:`.statement`
  (``framework/statement.go``), :mod:`.util` (``PredicateNodes``, ``PrioritizeNodes``, best
  node / HyperNode), :mod:`.scoring`, :mod:`.memo` (an engine shortcut);
* :mod:`.actions`: ``enqueue``, ``allocate`` (with its worksheets), ``backfill``;
* :mod:`.plugins`: ``predicates``, ``nodeorder``, ``binpack``, ``network-topology-aware``,
  ``gang``, ``proportion``, ``drf``;
* the result: :mod:`.result`, :mod:`.reasons`, :mod:`.ties` (replays of Volcano's random
  choices), :mod:`.netcost` (network cost of a placement), :mod:`.baseline` (GPU-model affinity
  only), :mod:`.preflight`; :mod:`.engine` ties it together in :func:`predict`;
* on top of :func:`predict`: :mod:`.changes` (hypothetical changes as data: ``parse_changes``,
  ``apply_changes``), :mod:`.whatif` (before vs after) and :mod:`.headroom` (largest replica
  counts, free pods per HyperNode).
"""

from hypertopo.placement.engine import predict
from hypertopo.placement.errors import PlacementInputError
from hypertopo.placement.inputs import coerce_scheduler_conf
from hypertopo.placement.preflight import preflight

__all__ = ["PlacementInputError", "coerce_scheduler_conf", "predict", "preflight"]
