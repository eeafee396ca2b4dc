"""The pure planners behind the roles: one module per role, named after it.

``node_labels`` (role ``node_labels``), ``hypernodes``, ``scheduler_config`` and ``pd_services``,
plus what they share: ``objdiff`` (which rendered objects need a write), ``batches`` (concurrent
``kubernetes.core.k8s`` runs), ``plain`` (Ansible values to plain Python data) and ``write_files``
(the render steps' file writes, action plugin ``hypertopo_write_files``).
Each role's filters live in ``filter_plugins/hypertopo_<role>.py``.
"""
