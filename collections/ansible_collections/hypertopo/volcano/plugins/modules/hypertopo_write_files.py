# Copyright: hypertopo contributors
# Apache-2.0
# Documentation only: the action plugin hypertopo_write_files (plugins/action/) is the code.

DOCUMENTATION = r"""
module: hypertopo_write_files
short_description: Write a set of rendered files into one directory on the controller, all or none
description:
  - Writes every file of O(files) into the directory O(dest) on the controller (where the plays of this
    collection run, on localhost), the way a C(ansible.builtin.file) task for the directory and one
    C(ansible.builtin.copy) task per file would, without starting a module process.
  - Creates O(dest) (and missing parents) with O(directory_mode); sets that mode on an existing O(dest).
  - Writes only the files whose bytes differ; a file with the right bytes and another mode gets
    O(mode). The task reports a change only when something was written or changed, so a second run
    with the same content reports C(changed=false).
  - All or none. Every file to write is first written in full to a temporary file in O(dest), with its
    mode set before its content; only when all of them are complete are they renamed over their names.
    A failure before that (a name that is a folder, no space, no permission) removes the temporary files
    and leaves every file as it was. Each rename replaces one file at once (a reader sees the old file or
    the whole new one); the renames of a set are not one atomic step, so an error between two of them (on
    one file system, only when the folder changes under the run) leaves earlier files new and later ones
    old, each whole.
  - In check mode nothing is written (not even O(dest)); the result says which files would change.
  - With C(--diff), one before/after pair per file that changes (files over C(MAX_FILE_SIZE_FOR_DIFF),
    104448 bytes, or not UTF-8 are named, not shown), as C(ansible.builtin.copy) shows them.
options:
  dest:
    description: The directory the files are written into.
    type: path
    required: true
  files:
    description: >-
      File name (no C(/), not C(.) or C(..)) to its content (a string, written as UTF-8). The files
      are written in this order.
    type: dict
    required: true
  mode:
    description: The mode of every file, in octal (C(0644)); symbolic modes are not supported.
    type: raw
    default: "0644"
  directory_mode:
    description: The mode of O(dest) and of the parents it creates, in octal.
    type: raw
    default: "0755"
attributes:
  check_mode:
    support: full
    description: Writes nothing; reports what would change.
  diff_mode:
    support: full
    description: One before/after pair per file that changes.
  platform:
    support: full
    platforms: posix
    description: Writes on the controller, whatever the target host.
author: hypertopo contributors (@hypertopo)
"""

EXAMPLES = r"""
- name: Write hypernodes.yaml
  hypertopo.volcano.hypertopo_write_files:
    dest: "{{ hypernodes_render_dir }}"
    files:
      hypernodes.yaml: "{{ _hypernodes_rendered | map('ansible.builtin.to_nice_yaml') | join('---\n') }}"

- name: Write the three reports at once
  hypertopo.volcano.hypertopo_write_files:
    dest: out/report
    files:
      report.txt: "{{ reports.text }}"
      report.json: "{{ reports.json }}"
      report.html: "{{ reports.html }}"
"""

RETURN = r"""
dest:
  description: The directory, as given.
  type: str
  returned: success
directory:
  description: What happened to the directory, C(created), C(mode) (its mode was set) or C(unchanged).
  type: str
  returned: success
files:
  description: >-
    File name to C(created), C(changed) (new content), C(mode) (same content, mode set) or
    C(unchanged); in check mode, what would happen.
  type: dict
  returned: success
"""
