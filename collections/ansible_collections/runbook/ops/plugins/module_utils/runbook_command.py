# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Running a command on the host from a module: shared by the collection's modules.

Modules import it as
``ansible_collections.runbook.ops.plugins.module_utils.runbook_command``; Ansible ships it
with every module of the collection that imports it.

Commands: the one runner of the modules. Once a module calls use(module), commands go
through module.run_command() (programs found with module.get_bin_path(), a time limit
kept with coreutils' `timeout`); before that (unit tests of the pure parts) run() below.
Arguments are always a list, never a shell line.

Modules that call ``module.run_command()`` themselves (which has no time limit) use
``bounded()``: it puts coreutils' ``timeout`` in front of a command when the host has
it, so a program that hangs (a docker engine that does not answer) ends the task with
an error instead of holding it.
"""

from __future__ import annotations

import os
import shutil
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


# Where system tools live on Debian; a module's PATH may lack the sbin directories.
SBIN_DIRS = ["/usr/local/sbin", "/usr/sbin", "/sbin"]
NOT_RUN = 127


def run(argv, cwd=None, timeout=60, data=None):
    """(rc, stdout, stderr) of a command; arguments are passed as a list, never through a shell."""
    try:
        proc = subprocess.run(argv, cwd=cwd, input=data, capture_output=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return NOT_RUN, "", str(exc)
    return proc.returncode, proc.stdout.decode("utf-8", "replace"), proc.stderr.decode("utf-8", "replace")


class Commands:
    """The command runner of a module: module.run_command() after use(module), run() before."""

    def __init__(self):
        self.module = None

    def use(self, module):
        self.module = module
        return self

    def which(self, name):
        """The path of a program (the sbin directories searched too), or None."""
        if self.module is not None:
            return self.module.get_bin_path(name, opt_dirs=SBIN_DIRS)
        return shutil.which(name, path=os.pathsep.join([os.environ.get("PATH", "")] + SBIN_DIRS))

    def run(self, argv, cwd=None, timeout=60, data=None):
        """(rc, stdout, stderr); rc 127 and the reason when it could not run, 124 when it ran out of time."""
        if self.module is None:
            return run(argv, cwd=cwd, timeout=timeout, data=data)
        if cwd and not os.path.isdir(cwd):
            return NOT_RUN, "", "no directory %s" % cwd
        argv = list(argv)
        if argv and os.sep not in argv[0]:
            argv[0] = self.module.get_bin_path(argv[0], opt_dirs=SBIN_DIRS) or argv[0]
        if timeout:
            argv = bounded(self.module, argv, max(int(timeout), 1))
        try:
            return self.module.run_command(argv, cwd=cwd, data=data, binary_data=data is not None,
                                           errors="surrogate_then_replace", expand_user_and_vars=False,
                                           handle_exceptions=False)
        except OSError as exc:
            return NOT_RUN, "", str(exc)
