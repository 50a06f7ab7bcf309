# SPDX-License-Identifier: GPL-3.0-or-later
"""Give a run lock back on the hosts: `playbooks/internal/release_lock.yml`.

Used after an interrupted run (with that run's lock token) and by
`runbook unlock-stale` (a given token, or only a lock whose heartbeat is
stale). The playbook releases a host's lock only if it still holds that
token, so running it twice is harmless.

It runs through ansible-runner like a scenario, with the same environment,
inventory, limit and connection options (login, become, private key), in a private temporary directory removed afterwards;
killed, with everything it started, after TIMEOUT seconds.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ansible_runner

from runbook.events import is_stats, published_of, stats_of, task_result
from runbook.proctree import ProcessTree
from runbook.redact import Redactor
from runbook.runner import RUNNER_SETTINGS, Connection, RunOutcome, cmdline, envvars, says_no_hosts, show_safely

RELEASE_PLAYBOOK = Path("playbooks") / "internal" / "release_lock.yml"
LOG_FILE = "release.log"
TIMEOUT = 60.0
STALE_NOTE = "the lock goes stale about 6 minutes after the run's last process on the host ended"


class ReleaseError(Exception):
    """The release playbook could not be run at all."""


@dataclass
class ReleaseRequest:
    project: Path
    inventory: list[str] = field(default_factory=list)  # each -i of the run, in order
    limit: str | None = None
    extra_vars: dict[str, Any] = field(default_factory=dict)  # the token or stale_only, contract and connection vars
    connection: Connection = field(default_factory=Connection)  # the run's -u, -b, --private-key: same host, same login


@dataclass
class ReleaseOutcome:
    outcome: RunOutcome
    timed_out: bool = False
    failures: list[str] = field(default_factory=list)  # "host: why", from the failed tasks
    output: str = ""  # what ansible-playbook printed, redacted

    @property
    def released(self) -> bool:
        return not self.timed_out and not self.outcome.no_hosts and self.outcome.exit_code() == 0

    def reason(self, timeout: float = TIMEOUT) -> str:
        """Why the lock may not have been given back, in a few words."""
        if self.timed_out:
            return f"no answer within {timeout:.0f} s"
        if self.outcome.no_hosts:
            return "the inventory and limit matched no host"
        if self.failures:
            return "; ".join(self.failures[:3])
        if any(self.outcome.stats.get("dark", {}).values()):
            return "host unreachable"
        lines = [line for line in self.output.splitlines() if line.strip()]
        return lines[-1].strip() if lines else f"ansible-playbook ended with status {self.outcome.status}"


def release_lock(
    request: ReleaseRequest,
    redactor: Redactor,
    on_event: Callable[[dict[str, Any]], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    timeout: float = TIMEOUT,
) -> ReleaseOutcome:
    """Run the release playbook; raise ReleaseError when it cannot start."""
    return run_internal(RELEASE_PLAYBOOK, request, redactor, on_event, should_stop, timeout)


def run_internal(
    relative: Path,
    request: ReleaseRequest,
    redactor: Redactor,
    on_event: Callable[[dict[str, Any]], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    timeout: float = TIMEOUT,
) -> ReleaseOutcome:
    """Run one of playbooks/internal/ (the lock's release, triage's fix log) as a release runs: same environment,
    inventory, limit and connection, private temporary folder, killed after `timeout` s. What it published with
    set_stats is in the outcome. Raise ReleaseError when it cannot start."""
    playbook = request.project / relative
    if not playbook.is_file():
        raise ReleaseError(f"{relative} not found in {request.project}")
    watch = _Watch(redactor, on_event, should_stop, timeout)
    private = Path(tempfile.mkdtemp(prefix="runbook-"))
    try:
        try:
            runner = ansible_runner.run(
                private_data_dir=str(private),
                artifact_dir=str(private / "artifacts"),
                ident=playbook.stem,
                project_dir=str(request.project),
                playbook=str(playbook),
                inventory=list(request.inventory) or None,
                limit=request.limit,
                extravars=dict(request.extra_vars),
                cmdline=cmdline(request.connection.args()),
                passwords=request.connection.passwords(),
                envvars=envvars(request.project, private),
                settings=RUNNER_SETTINGS,
                event_handler=watch.event,
                cancel_callback=watch.cancel,
                quiet=True,
                rotate_artifacts=0,
            )
        except Exception as exc:  # ansible-runner could not start it
            raise ReleaseError(redactor.text(str(exc))) from exc
        finally:
            if watch.stopped:
                watch.tree.end()
        return watch.outcome(runner.status, runner.rc, private / "artifacts" / playbook.stem)
    finally:
        shutil.rmtree(private, ignore_errors=True)


def append_log(log: Path, result: ReleaseOutcome, header: str) -> None:
    """Add the release's output to the run folder's release.log (private, redacted already)."""
    with log.open("a", encoding="utf-8") as handle:
        handle.write(f"# {header}\n{result.output}")
        if result.output and not result.output.endswith("\n"):
            handle.write("\n")
    log.chmod(0o600)


class _Watch:
    """Event and cancel callbacks of one release: redact, show, time out."""

    def __init__(self, redactor: Redactor, on_event: Callable[[dict[str, Any]], None] | None,
                 should_stop: Callable[[], bool] | None, timeout: float) -> None:
        self.redactor = redactor
        self.on_event = on_event
        self.should_stop = should_stop
        self.deadline = time.monotonic() + timeout
        self.tree = ProcessTree()
        self.pid: int | None = None
        self.timed_out = False
        self.stopped = False
        self.stats: dict[str, Any] | None = None
        self.failures: list[str] = []

    def event(self, event: dict[str, Any]) -> bool:
        if self.pid is None and isinstance(event.get("pid"), int):
            self.pid = event["pid"]
        self.redactor.event(event)
        if is_stats(event):
            self.stats = event
        result = task_result(event)
        if result is not None and result.status in ("failed", "unreachable"):
            self.failures.append(f"{result.host}: {result.message or result.status}")
        if self.on_event is not None:
            show_safely(self.on_event, event)
        return True

    def cancel(self) -> bool:
        if self.pid is not None:
            self.tree.watch(self.pid)
        self.timed_out = time.monotonic() > self.deadline
        self.stopped = self.timed_out or (self.should_stop is not None and self.should_stop())
        if self.stopped:
            self.tree.kill()
        return self.stopped

    def outcome(self, status: str, rc: int | None, artifacts: Path) -> ReleaseOutcome:
        outcome = RunOutcome(status=status, rc=rc)
        if self.stats is not None:
            outcome.stats = stats_of(self.stats)
            outcome.published = published_of(self.stats)
        outcome.no_hosts = self.stats is None and says_no_hosts(artifacts)
        try:
            output = (artifacts / "stdout").read_text(encoding="utf-8", errors="replace")
        except OSError:
            output = ""
        return ReleaseOutcome(outcome, self.timed_out, self.failures, self.redactor.text(output))
