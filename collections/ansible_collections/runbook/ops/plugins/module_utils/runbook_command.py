# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Running a command on the host from a module: shared by the roles' modules.

Modules import it as
``ansible_collections.runbook.ops.plugins.module_utils.runbook_command``; Ansible ships it
with every module of the collection that imports it.

Modules run their commands with ``module.run_command()``, which has no time limit;
``bounded()`` puts coreutils' ``timeout`` in front of a command when the host has it,
so a program that hangs (a docker engine that does not answer) ends the task with an
error instead of holding it.
"""

from __future__ import annotations

import subprocess

# timeout's own exit statuses: the command was sent TERM at the limit (124), KILL after the grace (137).
TIMED_OUT = (124, 137)
KILL_AFTER = 5


def bounded(module, argv, seconds):
    """argv run under coreutils' timeout for `seconds` when the host has it, else argv as given."""
    limit = module.get_bin_path("timeout")
    if not limit:
        return list(argv)
    return [limit, "--kill-after=%d" % KILL_AFTER, str(seconds)] + list(argv)


def run(argv, cwd=None, timeout=60):
    """(rc, stdout, stderr) of a command; arguments are passed as a list, never through a shell."""
    try:
        proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return 127, "", str(exc)
    return proc.returncode, proc.stdout, proc.stderr
