"""Import an inventory from the fabric (ibnetdiscover, UFM, LLDP) and the cluster (node labels), and
report drift between an inventory and the cluster or the fabric (``hypertopo-import``, issue #14)."""
