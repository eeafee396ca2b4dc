"""Volcano's scheduler plugins, one module each (``pkg/scheduler/plugins/<name>``).

Only what the simulated actions call: the predicates plugin's filters, the nodeorder, binpack
and network-topology-aware scores and HyperNode functions, the gang plugin's readiness checks,
the drf plugin's job order and the proportion plugin's enqueue check. The priority plugin's
orders are folded into :meth:`hypertopo.placement.scheduler.Scheduler.job_key` and the task
order (:mod:`hypertopo.placement.snapshot`).
"""
