# SPDX-License-Identifier: GPL-3.0-or-later
"""The processes a run started, found through /proc, and how to end them all.

ansible-playbook runs in a session of its own (pexpect) and starts each
worker in yet another session, so killing its process group leaves the
workers (and the module processes under them) running. A `ProcessTree`
remembers every descendant it has seen, each by pid and start time (so a
reused pid is never hit), and can end those still alive.

Without /proc (not Linux) only the pids handed to `watch` are known.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

_PROC = Path("/proc")
Identity = tuple[int, str]  # pid, start time (clock ticks since boot; "" when unknown)


def start_time(pid: int) -> str | None:
    """The start time of a live process, "" without /proc; None when it is gone."""
    try:
        stat = (_PROC / str(pid) / "stat").read_text(encoding="ascii", errors="replace")
    except FileNotFoundError:
        return None if _PROC.is_dir() else ("" if alive(pid) else None)
    except OSError:
        return None
    fields = stat.rpartition(")")[2].split()
    if len(fields) < 20 or fields[0] == "Z":  # a zombie has ended
        return None
    return fields[19]


def parent_of(pid: int) -> int | None:
    try:
        stat = (_PROC / str(pid) / "stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    fields = stat.rpartition(")")[2].split()
    return int(fields[1]) if len(fields) > 1 else None


def children(parents: set[int]) -> set[int]:
    """Pids whose parent is one of `parents`."""
    if not _PROC.is_dir():
        return set()
    found = set()
    for entry in _PROC.iterdir():
        if entry.name.isdigit() and parent_of(int(entry.name)) in parents:
            found.add(int(entry.name))
    return found


def descendants(pid: int) -> set[int]:
    """Every process below pid, however deep."""
    found: set[int] = set()
    level = {pid}
    while level:
        level = children(level) - found
        found |= level
    return found


def command_line(pid: int) -> str:
    try:
        raw = (_PROC / str(pid) / "cmdline").read_bytes()
    except OSError:
        return ""
    return raw.replace(b"\0", b" ").decode("utf-8", errors="replace").strip()


def alive(pid: int) -> bool:
    """The process exists (os.kill with signal 0); a zombie of ours still counts."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class ProcessTree:
    """A process and everything it started, as far as we have seen."""

    def __init__(self) -> None:
        self._seen: dict[int, str] = {}

    @property
    def pids(self) -> list[int]:
        return sorted(self._seen)

    def watch(self, pid: int) -> None:
        """Remember pid and its descendants as they are now (call again to catch newer ones)."""
        for member in {pid} | descendants(pid):
            if member in self._seen:
                continue
            started = start_time(member)
            if started is not None:
                self._seen[member] = started

    def alive(self) -> list[int]:
        """The remembered processes still running (same pid, same start time)."""
        return [pid for pid, started in sorted(self._seen.items()) if start_time(pid) == started]

    def kill(self) -> None:
        """SIGKILL every remembered process still running, and the process groups they lead."""
        own_group = os.getpgrp()
        for pid in self.alive():
            for target in (pid, -pid):
                if target < 0 and (_group_of(pid) != pid or pid == own_group):
                    continue
                try:
                    os.kill(target, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass

    def end(self, wait: float = 3.0) -> list[int]:
        """Make sure none is left: kill those still running, wait for them; the survivors (normally none)."""
        if self.alive():
            self.kill()
        deadline = time.monotonic() + wait
        while (left := self.alive()) and time.monotonic() < deadline:
            time.sleep(0.05)
        return left


def _group_of(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except OSError:
        return None
