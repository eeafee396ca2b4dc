"""Write a set of rendered files into one directory, all of them or none, like ``ansible.builtin.copy``.

The logic behind the ``hypertopo_write_files`` action plugin (the render steps of the roles
``hypernodes``, ``node_labels``, ``scheduler_config``, ``pd_services``, ``topology_hints``,
``placement_report`` and the report of ``playbooks/plan.yml``) and of
:func:`hypertopo.report.write_report`. The rules:

* **Only what differs is written.** A file whose bytes and mode are already those asked for is
  left alone; a file with the right bytes and another mode gets a ``chmod``; the result counts a
  change only when something was written or changed (the directory created or its mode set
  included), so a second run reports ``changed: false``.
* **All or nothing.** Every file to write is first written in full to a temporary file next to
  it (its mode set before a byte is written, then ``fsync``), see :func:`write_atomic`. Only when
  every one of them is complete are they renamed over their names, one after the other
  (``os.replace``: a reader sees the old file or the whole new one, never a part). A failure
  before the renames (a name that is a folder, no space left, no permission, an interrupted
  run) removes the temporary files and leaves every file as it was. The renames themselves are
  not one atomic step: an error between two renames (on one file system, only when the folder
  changes under the run) leaves the earlier files new and the later ones old, each whole.
* **Check mode** writes nothing (not even the directory) and says what would change.
* **Diff**: one ``before``/``after`` pair per file that changes, in the form
  ``ansible.builtin.copy`` returns it (a file over the size limit or not UTF-8 is named, not shown).
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

Status = Literal["created", "changed", "mode", "unchanged"]
#: ``ansible.builtin.copy``'s default for ``MAX_FILE_SIZE_FOR_DIFF`` (bytes).
MAX_DIFF_SIZE = 104448


class WriteFilesError(ValueError):
    """Arguments or a destination the files cannot be written to (nothing was written)."""


@dataclass
class WriteResult:
    """What :func:`write_files` did (or, in check mode, would do)."""

    directory: Path
    directory_status: Literal["created", "mode", "unchanged"] = "unchanged"
    files: dict[str, Status] = field(default_factory=dict)
    #: the previous bytes of every file that is (or would be) rewritten; None: it did not exist
    before: dict[str, bytes | None] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return self.directory_status != "unchanged" or any(s != "unchanged" for s in self.files.values())


def parse_mode(value: Any, what: str = "mode") -> int:
    """``"0644"``, ``"644"``, ``0o644`` -> ``0o644`` (octal digits only; symbolic modes are refused)."""
    if isinstance(value, bool):
        raise WriteFilesError(f"{what}: an octal mode such as '0644', not {value!r}")
    if isinstance(value, int):
        mode = value
    else:
        text = str(value).strip()
        if not text or any(c not in "01234567" for c in text):
            raise WriteFilesError(f"{what}: an octal mode such as '0644', not {value!r}")
        mode = int(text, 8)
    if not 0 <= mode <= 0o7777:
        raise WriteFilesError(f"{what}: {value!r} is not a file mode")
    return mode


def check_name(name: str) -> str:
    """A file name inside the directory: no folder part, not ``.``/``..``."""
    if not isinstance(name, str) or not name or "/" in name or "\0" in name or name in (".", ".."):
        raise WriteFilesError(f"file name {name!r}: a plain file name (no '/', not '.' or '..')")
    return name


def write_atomic(path: Path, data: bytes, *, mode: int = 0o600) -> None:
    """Write ``path`` atomically: a new file in the same folder, created with ``mode`` before a
    byte is written, then renamed over ``path`` (readers see the old file or the whole new one)."""
    os.replace(_prepare(path, data, mode), path)


def _prepare(path: Path, data: bytes, mode: int) -> str:
    """A complete temporary copy of ``path`` next to it (mode set first, fsync'd); its name."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return tmp


def _status(path: Path, data: bytes, mode: int) -> tuple[Status, bytes | None]:
    try:
        st = path.stat()
    except FileNotFoundError:
        return "created", None
    if not stat.S_ISREG(st.st_mode):
        raise WriteFilesError(f"{path}: exists and is not a regular file")
    old = path.read_bytes()
    if old != data:
        return "changed", old
    return ("unchanged" if stat.S_IMODE(st.st_mode) == mode else "mode"), None


def write_files(
    directory: str | Path,
    files: Mapping[str, str | bytes],
    *,
    mode: int = 0o644,
    directory_mode: int = 0o755,
    check: bool = False,
) -> WriteResult:
    """Write ``files`` (file name -> content, UTF-8 for text) into ``directory`` by the rules of
    the module docstring; create ``directory`` (and missing parents) with ``directory_mode``."""
    directory = Path(directory)
    data = {
        check_name(name): content if isinstance(content, bytes) else str(content).encode("utf-8")
        for name, content in files.items()
    }
    result = WriteResult(directory)
    missing: list[Path] = []
    for folder in (directory, *directory.parents):
        if folder.is_dir():
            break
        if folder.exists() or folder.is_symlink():
            raise WriteFilesError(f"{folder}: exists and is not a directory")
        missing.append(folder)
    if missing:
        result.directory_status = "created"
        result.files = dict.fromkeys(data, "created")
        result.before = dict.fromkeys(data)
    else:
        if stat.S_IMODE(directory.stat().st_mode) != directory_mode:
            result.directory_status = "mode"
        for name, content in data.items():
            status, old = _status(directory / name, content, mode)
            result.files[name] = status
            if status in ("created", "changed"):
                result.before[name] = old
    if check:
        return result
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):
            folder.mkdir()
        folder.chmod(directory_mode)
    if result.directory_status == "mode":
        directory.chmod(directory_mode)
    write = [name for name, status in result.files.items() if status in ("created", "changed")]
    prepared: dict[str, str] = {}
    try:
        for name in write:
            prepared[name] = _prepare(directory / name, data[name], mode)
        for name in write:
            os.replace(prepared.pop(name), directory / name)
    finally:
        for tmp in prepared.values():
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
    for name, status in result.files.items():
        if status == "mode":
            (directory / name).chmod(mode)
    return result


def diffs(
    result: WriteResult, files: Mapping[str, str | bytes], *, max_size: int = MAX_DIFF_SIZE
) -> list[dict[str, Any]]:
    """``ansible.builtin.copy``'s diff of every file that changes (``--diff``), in file order."""
    out: list[dict[str, Any]] = []
    for name, status in result.files.items():
        if status not in ("created", "changed"):
            continue
        path = str(result.directory / name)
        diff: dict[str, Any] = {"before_header": path, "after_header": path}
        for side, raw in (("before", result.before.get(name)), ("after", files[name])):
            content = raw if isinstance(raw, bytes) or raw is None else str(raw).encode("utf-8")
            key = "dst" if side == "before" else "src"
            if content is None:
                diff[side] = ""
            elif len(content) > max_size:
                diff[f"{key}_larger"] = max_size
            else:
                try:
                    diff[side] = content.decode("utf-8")
                except UnicodeDecodeError:
                    diff[f"{key}_binary"] = 1
        out.append(diff)
    return out


__all__ = [
    "MAX_DIFF_SIZE",
    "WriteFilesError",
    "WriteResult",
    "check_name",
    "diffs",
    "parse_mode",
    "write_atomic",
    "write_files",
]
