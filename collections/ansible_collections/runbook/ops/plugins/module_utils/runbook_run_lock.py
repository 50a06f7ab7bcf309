# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The host's run lock, shared by the modules that take it.

runbook_lock (role runbook_lock) takes it, waiting, and gives it back;
runbook_diagnose takes it in its round trip when it is free (the outage
playbook, whose diagnosis comes before any change);
runbook_release (this role) takes it in the same round trip as its probe when
the lock is free and there is work to do. Modules import it as
``ansible_collections.runbook.ops.plugins.module_utils.runbook_run_lock``; Ansible ships it
with every module of the collection that imports it.

Layout under state_dir:
  run.lock/            the lock (mkdir is atomic)
  run.lock/owner       JSON: token, owner (user@controller), scenario, started
  run.lock/heartbeat   touched every few seconds while the run is alive
  run.lock.guard       flock()ed around every check-and-change of run.lock
  run.lock.seq         each new holder adds one

Rebooting: before a run reboots the host its heartbeat dies with every other
process, so the run first marks its lock `rebooting_until` (epoch seconds on
the host's clock) in the owner file. Until then the lock is not stale, however
old its heartbeat; the run takes it again after the reboot (same token),
which clears the mark.

Liveness: when the lock is taken, a small detached heartbeat process starts
on the host. It touches run.lock/heartbeat while any process on the host
carries the run's token in its environment (the playbooks set
RUNBOOK_RUN_TOKEN for every task), and stops once no such process has been
seen for `idle` seconds, or when the lock no longer holds its token.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
import time
from datetime import datetime, timezone

LOCK = "run.lock"
GUARD = "run.lock.guard"
SEQ = "run.lock.seq"
OWNER = "owner"
BEAT = "heartbeat"
BEAT_PID = "heartbeat.pid"
BEAT_INTERVAL = 5

# The heartbeat process. Its own environment is cleaned of the token, so it
# never counts itself as a process of the run. Its /proc scan twins
# run_processes() below on purpose: it runs detached as its own `python -c`,
# after this module (sent pipelined, never a file on the host) has exited.
HEARTBEAT = r"""
import json, os, sys, time
lock, token, env_name, idle, interval = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]), float(sys.argv[5])
needle = ("%s=%s" % (env_name, token)).encode()
me = os.getpid()
def ours():
    try:
        with open(os.path.join(lock, "owner")) as f:
            return json.load(f).get("token") == token
    except (OSError, ValueError):
        return False
def run_alive():
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == me:
            continue
        try:
            with open("/proc/%s/environ" % name, "rb") as f:
                if needle in f.read().split(b"\0"):
                    return True
        except OSError:
            continue
    return False
last_seen = time.monotonic()
while ours():
    if run_alive():
        last_seen = time.monotonic()
    if time.monotonic() - last_seen > idle:
        break
    try:
        os.utime(os.path.join(lock, "heartbeat"))
    except OSError:
        break
    time.sleep(interval)
"""


def now_iso() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Guard:
    """flock() on run.lock.guard around one check-and-change of run.lock."""

    def __init__(self, state_dir: str) -> None:
        self.path = os.path.join(state_dir, GUARD)
        self.fd = -1

    def __enter__(self) -> "Guard":
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc: object) -> None:
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)


def read_owner(lock: str) -> dict | None:
    """The owner data of the lock; {} for a lock without a readable owner file; None when free."""
    if not os.path.isdir(lock):
        return None
    try:
        with open(os.path.join(lock, OWNER)) as f:
            data = json.load(f)
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def heartbeat_age(lock: str, now: float | None = None) -> float:
    """Seconds since the lock last showed life (the newest of the dir, owner and heartbeat), host clock
    (now: the time to count from, time.time() when not given)."""
    newest = 0.0
    for path in (lock, os.path.join(lock, OWNER), os.path.join(lock, BEAT)):
        try:
            newest = max(newest, os.stat(path).st_mtime)
        except OSError:
            continue
    return (time.time() if now is None else now) - newest


def rebooting_left(holder: dict | None) -> float:
    """Seconds the holder's reboot mark still holds the lock (0 when none or past), host clock."""
    try:
        until = float((holder or {}).get("rebooting_until") or 0)
    except (TypeError, ValueError):
        return 0.0
    return max(until - time.time(), 0.0)


def is_stale(holder: dict | None, age: float | None, stale_after: float) -> bool:
    """A held lock whose heartbeat is older than stale_after and whose run is not rebooting."""
    return holder is not None and age is not None and age > stale_after and rebooting_left(holder) == 0


def write_owner(lock: str, data: dict) -> None:
    temporary = os.path.join(lock, OWNER + ".tmp")
    with open(temporary, "w") as f:
        json.dump(data, f)
        f.write("\n")
    os.chmod(temporary, 0o600)
    os.replace(temporary, os.path.join(lock, OWNER))
    with open(os.path.join(lock, BEAT), "w"):
        pass


def remove_lock(lock: str) -> None:
    """Move the lock aside (atomic), then delete it: nobody ever sees a half-removed lock."""
    aside = "%s.removing-%d-%d" % (lock, os.getpid(), time.time_ns())
    os.rename(lock, aside)
    shutil.rmtree(aside, ignore_errors=True)


def start_heartbeat(lock: str, token: str, env_name: str, idle: int) -> int:
    """Start the detached heartbeat process for the lock and token; its pid."""
    env = {key: value for key, value in os.environ.items() if key != env_name}
    with open(os.devnull, "rb") as null_in, open(os.devnull, "wb") as null_out:
        proc = subprocess.Popen(
            [sys.executable, "-c", HEARTBEAT, lock, token, env_name, str(idle), str(BEAT_INTERVAL)],
            stdin=null_in, stdout=null_out, stderr=null_out, env=env, close_fds=True,
            start_new_session=True, cwd="/",
        )
    with open(os.path.join(lock, BEAT_PID), "w") as f:
        f.write("%d\n" % proc.pid)
    return proc.pid


def heartbeat_alive(lock: str, token: str) -> bool:
    """The heartbeat process named in heartbeat.pid runs, for this lock and token (a pid can be reused)."""
    try:
        with open(os.path.join(lock, BEAT_PID)) as f:
            pid = int(f.read().strip())
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            argv = f.read().split(b"\0")
    except (OSError, ValueError):
        return False
    return lock.encode() in argv and token.encode() in argv


def describe(holder: dict | None, age: float | None = None) -> str:
    if holder is None:
        return "nobody"
    if not holder:
        return "an unknown run (no owner file)"
    text = "%s, %s, started %s, token %s" % (
        holder.get("owner") or "unknown", holder.get("scenario") or "unknown scenario",
        holder.get("started") or "?", holder.get("token") or "?")
    if age is not None:
        text += ", last heartbeat %ds ago" % int(age)
    left = rebooting_left(holder)
    if left:
        text += ", rebooting the host: the lock holds %ds more (until %s)" % (
            int(left), datetime.fromtimestamp(float(holder["rebooting_until"]), timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"))
    return text


def read_seq(state_dir: str) -> int:
    try:
        with open(os.path.join(state_dir, SEQ)) as f:
            return int(f.read().strip() or 0)
    except (OSError, ValueError):
        return 0


def lock_state(state_dir: str) -> tuple[bool, int]:
    """(held, seq) of the run lock: run.lock exists while a run holds it."""
    return os.path.isdir(os.path.join(state_dir, LOCK)), read_seq(state_dir)


def new_token() -> str:
    """A run's token, made on the host when the controller gave none (a direct ansible-playbook)."""
    return os.urandom(8).hex()


def next_seq(state_dir: str) -> int:
    """Add one to run.lock.seq (called under the guard when a run becomes the holder)."""
    seq = read_seq(state_dir) + 1
    path = os.path.join(state_dir, SEQ)
    with open(path + ".tmp", "w") as f:
        f.write("%d\n" % seq)
    os.replace(path + ".tmp", path)
    return seq


def take(state_dir: str, token: str, owner: str, scenario: str, env_name: str, idle: int,
         heartbeat: bool = True) -> dict:
    """Make this run the holder of a free lock (call under Guard): owner file, sequence number, heartbeat."""
    lock = os.path.join(state_dir, LOCK)
    os.mkdir(lock, 0o700)
    mine = {"token": token, "owner": owner, "scenario": scenario, "started": now_iso(), "host_pid": os.getpid()}
    write_owner(lock, mine)
    seq = next_seq(state_dir)
    if heartbeat:
        mine["heartbeat_pid"] = start_heartbeat(lock, token, env_name, idle)
    return {"holder": mine, "seq": seq}


def take_if_untouched(state_dir: str, seen_seq: int, token: str, owner: str, scenario: str, env_name: str,
                      idle: int) -> dict | None:
    """Take the lock only when it is free and nobody took it since the caller read `seen_seq`
    (so what the caller saw meanwhile still holds); None otherwise. Creates state_dir (0700)."""
    created = not os.path.isdir(state_dir)
    if created:
        os.makedirs(state_dir, mode=0o700, exist_ok=True)
    with Guard(state_dir):
        if lock_state(state_dir) != (False, seen_seq):
            return None
        taken = take(state_dir, token, owner, scenario, env_name, idle)
    return dict(taken, held=True, token=token, created_state_dir=created, took_over=None)


def probe_lock(state_dir: str, before: tuple[bool, int] | None) -> dict:
    """The lock as a probe saw it, from `before` (lock_state() ahead of the probe's reads) and a read now:
    held when it was held before or changed meanwhile. Without a before (no lock dir), held and unread."""
    if before is None:
        return {"read": False, "held": True, "seq": -1, "taken": False}
    after = lock_state(state_dir)
    return {"read": True, "held": before[0] or after != before, "seq": after[1], "taken": False}


def take_for_probe(state_dir: str, lock: dict, spec: dict) -> dict:
    """The probe's lock (probe_lock()) after trying to take it in the probe's round trip: taken (with
    the token and holder) only when the probe read it free and nobody took it since (spec: token, owner,
    scenario, idle, env_name as runbook_lock's); unchanged otherwise, also when it cannot be written
    here (runbook_lock's own step then says why)."""
    if not lock["read"] or lock["held"]:
        return lock
    token = spec.get("token") or new_token()
    try:
        taken = take_if_untouched(state_dir, lock["seq"], token, spec.get("owner", ""), spec.get("scenario", ""),
                                  spec.get("env_name") or "RUNBOOK_RUN_TOKEN", int(spec.get("idle", 300)))
    except OSError:
        taken = None
    return dict(lock, taken=True, **taken) if taken else lock
