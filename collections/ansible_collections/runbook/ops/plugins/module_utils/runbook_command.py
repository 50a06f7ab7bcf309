# SPDX-License-Identifier: GPL-3.0-or-later
"""Running a command on the host from a module: shared by the roles' modules.

Modules import it as
``ansible_collections.runbook.ops.plugins.module_utils.runbook_command``; Ansible ships it
with every module of the collection that imports it.
"""

from __future__ import annotations

import subprocess


def run(argv, cwd=None, timeout=60):
    """(rc, stdout, stderr) of a command; arguments are passed as a list, never through a shell."""
    try:
        proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return 127, "", str(exc)
    return proc.returncode, proc.stdout, proc.stderr
