"""The action plugin hypertopo_write_files and its rules (``hypertopo.rollout.write_files``), no cluster.

The core's rules are tested directly (only what differs is written, all files or none, check mode,
diff); the action plugin through ``ansible-playbook`` (check mode writes nothing, ``--diff`` shows each
changed file, a second run reports no change, a bad set fails before writing).
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from hypertopo.rollout import write_files as wf
from hypertopo.rollout.write_files import WriteFilesError, diffs, parse_mode, write_files

ROOT = Path(__file__).resolve().parents[2]


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_first_write_creates_the_directory_and_the_files(tmp_path: Path) -> None:
    out = tmp_path / "a" / "b"
    result = write_files(out, {"x.yaml": "x: 1\n", "y.txt": "é\n"}, mode=0o640, directory_mode=0o750)
    assert result.changed and result.directory_status == "created"
    assert result.files == {"x.yaml": "created", "y.txt": "created"}
    assert (out / "x.yaml").read_text() == "x: 1\n" and (out / "y.txt").read_bytes() == "é\n".encode()
    assert mode_of(out / "x.yaml") == 0o640 and mode_of(out) == 0o750 and mode_of(out.parent) == 0o750
    assert sorted(p.name for p in out.iterdir()) == ["x.yaml", "y.txt"]  # no temporary file left


def test_a_second_run_changes_nothing(tmp_path: Path) -> None:
    files = {"x.yaml": "x: 1\n", "y.txt": "y\n"}
    write_files(tmp_path / "out", files)
    before = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "out").iterdir()}
    again = write_files(tmp_path / "out", files)
    assert not again.changed
    assert again.files == {"x.yaml": "unchanged", "y.txt": "unchanged"}
    assert {p.name: p.stat().st_mtime_ns for p in (tmp_path / "out").iterdir()} == before


def test_only_what_differs_is_written_and_a_mode_is_set_in_place(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_files(out, {"same": "s\n", "new": "old\n", "mode": "m\n"})
    (out / "mode").chmod(0o600)
    inode = (out / "same").stat().st_ino
    result = write_files(out, {"same": "s\n", "new": "new\n", "mode": "m\n"})
    assert result.files == {"same": "unchanged", "new": "changed", "mode": "mode"}
    assert result.changed
    assert (out / "same").stat().st_ino == inode  # not rewritten
    assert (out / "new").read_text() == "new\n" and mode_of(out / "mode") == 0o644


def test_a_directory_with_another_mode_counts_as_a_change(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_files(out, {"f": "x"})
    out.chmod(0o700)
    result = write_files(out, {"f": "x"})
    assert result.directory_status == "mode" and result.changed and mode_of(out) == 0o755


def test_check_mode_writes_nothing_and_says_what_would_change(tmp_path: Path) -> None:
    fresh = tmp_path / "fresh"
    result = write_files(fresh, {"f": "x\n"}, check=True)
    assert result.changed and result.files == {"f": "created"} and not fresh.exists()
    out = tmp_path / "out"
    write_files(out, {"f": "x\n", "g": "g\n"})
    result = write_files(out, {"f": "y\n", "g": "g\n"}, check=True)
    assert result.files == {"f": "changed", "g": "unchanged"}
    assert (out / "f").read_text() == "x\n"
    assert sorted(p.name for p in out.iterdir()) == ["f", "g"]


def test_diff_shows_each_changed_file_like_copy(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_files(out, {"f": "x\n", "g": "g\n"})
    files = {"f": "y\n", "g": "g\n", "h": "h\n", "big": "z" * (wf.MAX_DIFF_SIZE + 1)}
    result = write_files(out, files, check=True)
    assert diffs(result, files) == [
        {"before_header": str(out / "f"), "after_header": str(out / "f"), "before": "x\n", "after": "y\n"},
        {"before_header": str(out / "h"), "after_header": str(out / "h"), "before": "", "after": "h\n"},
        {
            "before_header": str(out / "big"),
            "after_header": str(out / "big"),
            "before": "",
            "src_larger": wf.MAX_DIFF_SIZE,
        },
    ]


def test_a_failure_while_writing_leaves_every_file_as_it_was(tmp_path: Path, monkeypatch) -> None:
    """All or nothing: the second file cannot be prepared, so the first is not replaced either."""
    out = tmp_path / "out"
    write_files(out, {"a": "a1\n", "b": "b1\n"})
    real = wf._prepare

    def failing(path: Path, data: bytes, mode: int) -> str:
        if path.name == "b":
            raise OSError(28, "No space left on device")
        return real(path, data, mode)

    monkeypatch.setattr(wf, "_prepare", failing)
    with pytest.raises(OSError, match="No space left"):
        write_files(out, {"a": "a2\n", "b": "b2\n"})
    assert {p.name: p.read_text() for p in out.iterdir()} == {"a": "a1\n", "b": "b1\n"}  # no temporary file


def test_a_name_that_is_a_folder_fails_before_anything_is_written(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_files(out, {"a": "a1\n"})
    (out / "b").mkdir()
    with pytest.raises(WriteFilesError, match="not a regular file"):
        write_files(out, {"a": "a2\n", "b": "b\n"})
    assert (out / "a").read_text() == "a1\n"
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(WriteFilesError, match="not a directory"):
        write_files(blocker / "sub", {"a": "x"})


@pytest.mark.parametrize("name", ["", ".", "..", "a/b", "../x"])
def test_names_are_plain_file_names(tmp_path: Path, name: str) -> None:
    with pytest.raises(WriteFilesError, match="plain file name"):
        write_files(tmp_path, {name: "x"})


def test_modes() -> None:
    assert parse_mode("0644") == parse_mode("644") == parse_mode(0o644) == 0o644
    for bad in ("u=rw", "0999", "", True, 0o17777):
        with pytest.raises(WriteFilesError):
            parse_mode(bad)


PLAYBOOK = """\
- name: Write files with the action plugin
  hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Write
      hypertopo.volcano.hypertopo_write_files:
        dest: "{{ out }}"
        files:
          a.yaml: "{{ {'a': value | int} | ansible.builtin.to_nice_yaml }}"
          b.txt: "b\\n"
      register: written
"""


def play(tmp_path: Path, *extra: str) -> dict:
    (tmp_path / "write.yml").write_text(PLAYBOOK)
    env = {
        **os.environ,
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.json",
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
    }
    cmd = [str(Path(sys.executable).parent / "ansible-playbook"), str(tmp_path / "write.yml"), *extra]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    report = json.loads(proc.stdout)
    return report["plays"][0]["tasks"][0]["hosts"]["localhost"]


def test_the_action_plugin_in_check_mode_diff_mode_and_on_a_rerun(tmp_path: Path) -> None:
    out = tmp_path / "out"
    checked = play(tmp_path, "--check", "--diff", "-e", f"out={out}", "-e", "value=1")
    assert checked["changed"] and checked["files"] == {"a.yaml": "created", "b.txt": "created"}
    assert [d["after"] for d in checked["diff"]] == ["a: 1\n", "b\n"]
    assert not out.exists()

    first = play(tmp_path, "-e", f"out={out}", "-e", "value=1")
    assert first["changed"] and first["directory"] == "created"
    assert (out / "a.yaml").read_text() == "a: 1\n" and mode_of(out / "b.txt") == 0o644

    again = play(tmp_path, "-e", f"out={out}", "-e", "value=1")
    assert not again["changed"] and set(again["files"].values()) == {"unchanged"}

    diffed = play(tmp_path, "--check", "--diff", "-e", f"out={out}", "-e", "value=2")
    assert diffed["files"] == {"a.yaml": "changed", "b.txt": "unchanged"}
    assert diffed["diff"] == [
        {
            "before_header": str(out / "a.yaml"),
            "after_header": str(out / "a.yaml"),
            "before": "a: 1\n",
            "after": "a: 2\n",
        }
    ]
    assert (out / "a.yaml").read_text() == "a: 1\n"


def test_the_action_plugin_refuses_a_bad_set_and_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "b.txt").mkdir()
    failed = play(tmp_path, "-e", f"out={out}", "-e", "value=1")
    assert failed["failed"] and "not a regular file" in failed["msg"]
    assert "nothing was written" in failed["msg"]
    assert sorted(p.name for p in out.iterdir()) == ["b.txt"]
