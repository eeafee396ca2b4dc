pytest_plugins = ["hypertopo.cluster.pytest_plugin"]
