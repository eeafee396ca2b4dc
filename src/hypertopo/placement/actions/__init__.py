"""Volcano's scheduling actions, run in this order each session (``pkg/scheduler/actions``):
:mod:`.enqueue`, :mod:`.allocate`, :mod:`.backfill`. Preemption and reclaim are not simulated."""
