"""The pure planners behind the roles: one module per role, named after it.

``node_labels`` (role ``node_labels``), ``hypernodes``, ``scheduler_config`` and ``pd_services``,
plus what they share: ``objdiff`` (which rendered objects need a write), ``batches`` (concurrent
``kubernetes.core.k8s`` runs) and ``plain`` (Ansible values to plain Python data).
Each role's filters live in ``filter_plugins/hypertopo_<role>.py``.
"""
