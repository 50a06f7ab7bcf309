# SPDX-License-Identifier: GPL-3.0-or-later
"""Ctrl-C, SIGTERM and SIGHUP while a playbook runs.

All three are handled alike. The first one is passed on to ansible-playbook
as SIGINT: it tells its workers to stop and exits. A second signal, or no
exit within GRACE seconds, cancels: everything the playbook started is
killed (ansible-runner's own cancel only reaches ansible-playbook's process
group, and each worker runs in a session of its own).

The handler only records what happened and signals the playbook; its
messages are queued and handed to `notify` from the main loop (the cancel
callbacks ansible-runner polls), so a handler never writes to a stream the
interrupted code may be writing to.

While the run lock is being given back (`shielded`), signals are ignored:
the release is quick, and stopping it would leave the lock held.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

from runbook.proctree import ProcessTree, children, command_line

SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Interrupt:
    GRACE = 20.0

    def __init__(self, notify: Callable[[str], None] | None = None) -> None:
        self.notify = notify
        self.pid: int | None = None  # the running ansible-playbook's
        self.signum: int | None = None  # the first signal received
        self.requested_at: float | None = None
        self.forced = False
        self.tree = ProcessTree()
        self._shielded = False
        self._ended = False  # the playbook has returned: its pid may belong to someone else now
        self._told: int | None = None  # the pid SIGINT was sent to
        self._notices: list[str] = []

    @property
    def requested(self) -> bool:
        return self.requested_at is not None

    @property
    def signal_name(self) -> str:
        return signal.Signals(self.signum).name if self.signum else "interrupt"

    @contextmanager
    def installed(self) -> Iterator[Interrupt]:
        """Handle SIGINT, SIGTERM and SIGHUP inside the block; the previous handlers after it.

        A signal the caller already ignores (nohup, a background job) stays ignored.
        """
        previous: dict[signal.Signals, Any] = {}
        for signum in SIGNALS:
            handler = signal.getsignal(signum)
            if handler is signal.SIG_IGN:
                continue
            previous[signum] = handler
            signal.signal(signum, self._on_signal)
        try:
            yield self
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)

    @contextmanager
    def shielded(self) -> Iterator[None]:
        """Ignore signals inside the block (a notice says why)."""
        self._shielded = True
        try:
            yield
        finally:
            self._shielded = False

    def playbook_started(self, pid: int) -> None:
        """The pid of the ansible-playbook now running (from its events)."""
        if self.pid is None:
            self.pid = pid

    def playbook_ended(self) -> list[int]:
        """After the playbook returned: when interrupted, end whatever it left; the pids that survived."""
        self._ended = True
        if not self.requested:
            return []
        return self.tree.end()

    def should_cancel(self) -> bool:
        """ansible-runner's cancel_callback: True once the playbook must be killed."""
        self.flush()
        if not self.requested:
            return False
        pid = self._stop_playbook()
        assert self.requested_at is not None
        if self.forced or not pid or time.monotonic() - self.requested_at > self.GRACE:
            self.tree.kill()
            return True
        return False

    def keep_going(self) -> bool:
        """Cancel callback while shielded: pass the notices on, never stop."""
        self.flush()
        return False

    def flush(self) -> None:
        """Hand the queued messages to notify (from the main loop, never from the handler)."""
        queued, self._notices = self._notices, []
        for text in queued:
            if self.notify is not None:
                self.notify(text)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if self._shielded:
            self._notices.append(f"{name} received: giving the run lock back first, please wait")
            return
        if self._ended:
            self._notices.append(f"{name} received: the playbook has ended, finishing its record")
            return
        if self.requested_at is not None:
            self.forced = True
            self._notices.append(f"{name} received again: stopping the playbook now")
            return
        self.signum = signum
        self.requested_at = time.monotonic()
        self._notices.append(f"{name} received: stopping the playbook (send it again to stop at once)")
        self._stop_playbook()

    def _stop_playbook(self) -> int | None:
        """Pass SIGINT on to ansible-playbook once; keep track of what it started."""
        pid = self._playbook_pid()
        if pid is None or self._ended:
            return None
        self.tree.watch(pid)  # before it exits and its workers lose their parent
        if self._told != pid:
            self._told = pid
            try:
                os.kill(pid, signal.SIGINT)
            except ProcessLookupError:
                pass
        return pid

    def _playbook_pid(self) -> int | None:
        """The playbook's pid from its events, else our child running ansible-playbook."""
        if self.pid is None:
            for child in children({os.getpid()}):
                if "ansible-playbook" in command_line(child):
                    self.pid = child
                    break
        return self.pid
