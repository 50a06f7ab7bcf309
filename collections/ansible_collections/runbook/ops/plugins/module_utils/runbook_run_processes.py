# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The processes of a run on the host: those that carry its token in their environment.

runbook_lock's release waits for an interrupted run's leftovers (a `docker compose
build` still going) and then stops them, and stops the lock's heartbeat.
Modules import it as
``ansible_collections.runbook.ops.plugins.module_utils.runbook_run_processes``.
"""

from __future__ import annotations

import os
import signal
import time

from ansible_collections.runbook.ops.plugins.module_utils.runbook_run_lock import BEAT_PID


def ancestors() -> set:
    """This process and its parents: they carry the token but are the release itself."""
    pids = set()
    pid = os.getpid()
    while pid > 1 and pid not in pids:
        pids.add(pid)
        try:
            with open("/proc/%d/stat" % pid) as f:
                pid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            break
    return pids


def run_processes(env_name: str, token: str) -> list:
    """Processes on the host that still carry the run's token (leftovers of an interrupted run)."""
    needle = ("%s=%s" % (env_name, token)).encode()
    skip = ancestors()
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) in skip:
            continue
        try:
            with open("/proc/%s/environ" % name, "rb") as f:
                if needle in f.read().split(b"\0"):
                    found.append(int(name))
        except OSError:
            continue
    return found


def stop_leftovers(env_name: str, token: str, wait: float) -> list:
    """Wait up to `wait` seconds for the run's leftover processes, then stop them (TERM, then KILL)."""
    if not token:
        return []
    deadline = time.monotonic() + max(wait, 0)
    leftovers = run_processes(env_name, token)
    while leftovers and time.monotonic() < deadline:
        time.sleep(1)
        leftovers = run_processes(env_name, token)
    stopped = list(leftovers)
    if not leftovers:
        return stopped
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in leftovers:
            try:
                os.kill(pid, sig)
            except OSError:
                pass
        time.sleep(2 if sig == signal.SIGTERM else 0)
        leftovers = run_processes(env_name, token)
        if not leftovers:
            break
    return stopped


def stop_heartbeat(lock: str) -> None:
    """Stop the lock's heartbeat process (its pid is in the lock folder)."""
    try:
        with open(os.path.join(lock, BEAT_PID)) as f:
            os.kill(int(f.read().strip()), signal.SIGTERM)
    except (OSError, ValueError):
        pass
