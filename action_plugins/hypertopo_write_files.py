# Copyright: hypertopo contributors
# Apache-2.0
"""Write a set of rendered files into one directory on the controller (``hypertopo.rollout.write_files``).

The render steps of the roles and the plan report write with it instead of ``ansible.builtin.file``
plus one ``ansible.builtin.copy`` per file: the same result (only changed files written, modes,
check mode, ``--diff``), all files or none, and no module process (each of those cost a fork and
an AnsiballZ payload, 0.2-1.3 s per task in ``bench/RESULTS-plan.md``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from ansible.plugins.action import ActionBase
from ansible_collections.hypertopo.volcano.plugins.plugin_utils.core_missing import require_core

# The Python core travels as a pip requirement of the collection (README, "As a collection"):
# without it the plugin still loads (ansible-doc, ansible-test) and fails when used.
try:
    from hypertopo.rollout.write_files import WriteFilesError, diffs, parse_mode, write_files
except ImportError as exc:
    HYPERTOPO_MISSING: ImportError | None = exc
else:
    HYPERTOPO_MISSING = None

# Documentation: plugins/modules/hypertopo_write_files.py of the collection
# (collections/ansible_collections/hypertopo/volcano/plugins/modules/;
# ansible-doc hypertopo.volcano.hypertopo_write_files).

OPTIONS = {"dest", "files", "mode", "directory_mode"}


class ActionModule(ActionBase):
    """Write the files, or (check mode) say which would change."""

    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp: Any = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        require_core(HYPERTOPO_MISSING)
        result = super().run(tmp, task_vars)
        del tmp
        args = dict(self._task.args)
        unknown = sorted(set(args) - OPTIONS)
        dest = args.get("dest")
        files = args.get("files")
        problem = None
        if unknown:
            problem = f"unsupported options {unknown} (supported: {sorted(OPTIONS)})"
        elif not isinstance(dest, str) or not dest:
            problem = "dest is the directory to write into (a non-empty string)"
        elif not isinstance(files, Mapping):
            problem = "files maps each file name to its content"
        elif bad := [str(name) for name, text in files.items() if not isinstance(text, str)]:
            problem = f"the content of {bad} is not a string (render it with a filter such as to_nice_yaml)"
        if problem:
            return {**result, "failed": True, "msg": f"hypertopo_write_files: {problem}"}
        contents = {str(name): str(text) for name, text in files.items()}
        dest = os.path.expanduser(dest)  # a path option: ~ expanded, as for ansible.builtin.copy
        try:
            mode = parse_mode(args.get("mode", "0644"), "mode")
            directory_mode = parse_mode(args.get("directory_mode", "0755"), "directory_mode")
            written = write_files(
                dest, contents, mode=mode, directory_mode=directory_mode, check=bool(self._task.check_mode)
            )
        except WriteFilesError as exc:
            return {**result, "failed": True, "msg": f"hypertopo_write_files: {exc} (nothing was written)"}
        except OSError as exc:
            return {**result, "failed": True, "msg": f"hypertopo_write_files: {dest}: {exc}"}
        out: dict[str, Any] = {
            **result,
            "changed": written.changed,
            "dest": str(written.directory),
            "directory": written.directory_status,
            "files": written.files,
        }
        if self._task.diff:
            out["diff"] = diffs(written, contents)
        return out
