# SPDX-License-Identifier: GPL-3.0-or-later
"""What a rollback or deploy would do, per host, for the confirmation prompt: from -> to.

Before `runbook run rollback` asks on a terminal, the scenario's own playbook runs once
under --check with a tag no task carries, so only its `always` steps run: the input
checks and the release role's read-only probe (runbook.ops.runbook_release action=probe;
under --check no run lock is taken and nothing moves). Its results name, per host, the
release that runs and the target; a host the probe could not reach or that refuses the
target is said as such, and the question is still asked. Nothing is kept: the artifacts
go to a temporary folder that is removed afterwards.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import ansible_runner

from runbook.events import action_of, task_result
from runbook.redact import Redactor
from runbook.runner import RUNNER_SETTINGS, RunRequest, cmdline, envvars

# Scenarios whose playbook probes a release with runbook_release before its run lock.
PROBED = ("rollback", "deploy")
PROBE_ACTION = "runbook.ops.runbook_release"
# A tag no task carries: only the `always` steps (input checks, the read-only probe) run.
PREVIEW_TAG = "runbook_preview_only"
TIMEOUT = 120


@dataclass
class HostPreview:
    host: str
    origin: str = ""
    origin_source: str = ""
    to: str = ""
    target: str = ""
    note: str = ""
    problem: str = ""  # unreachable or refused: why from -> to is not known

    def line(self) -> str:
        if self.problem:
            return f"{self.host}: {self.problem}"
        if not self.origin and not self.to:
            return f"{self.host}: the probe said nothing about its release (from -> to unknown)"
        if self.origin and self.origin == self.to:
            return f"{self.host}: {self.origin[:12]} (running) -> no change (already the target)"
        source = "running" if self.origin_source.startswith("running") else self.origin_source.split(" (")[0]
        return f"{self.host}: {self.origin[:12] or '?'} ({source}) -> {self.to[:12] or '?'} ({self.target or 'default'})"


def from_event(event: dict[str, Any], found: dict[str, HostPreview]) -> None:
    """Keep what one event says about a host's release (the probe's result, an unreachable host)."""
    result = task_result(event)
    if result is None or not result.host:
        return
    data = event.get("event_data") or {}
    res = data.get("res") or {}
    preview = found.setdefault(result.host, HostPreview(result.host))
    if result.status == "unreachable":
        preview.problem = f"the probe cannot reach it ({_one_line(res.get('msg'))})"
    elif result.status == "failed" and not preview.problem:
        said = _one_line(res.get("msg"))
        # the probe's own refusal names why (refused: [...]); anything else kept it from reading the host
        refused = action_of(data) == PROBE_ACTION and bool(res.get("refused"))
        preview.problem = f"refused: {said}" if refused else f"could not be probed ({result.task}: {said})"
    elif action_of(data) == PROBE_ACTION and isinstance(res, dict) and "origin" in res and not preview.origin:
        preview.origin, preview.origin_source = str(res.get("origin") or ""), str(res.get("origin_source") or "")
        preview.to, preview.target = str(res.get("to") or ""), str(res.get("target") or "")
        preview.note = str(res.get("target_note") or "")


def release_preview(request: RunRequest, redactor: Redactor) -> list[str]:
    """Lines for the prompt: `rollback on web1, web2:`, then one per host (from -> to, or why not known)."""
    name = request.scenario.name
    found: dict[str, HostPreview] = {}
    private = Path(tempfile.mkdtemp(prefix="runbook-preview-"))
    probe = replace(request, check=True, tags=PREVIEW_TAG, skip_tags=None, verbosity=0, diff=False)

    def handle(event: dict[str, Any]) -> bool:
        redactor.event(event)
        from_event(event, found)
        return False  # nothing is kept

    try:
        runner = ansible_runner.run(
            private_data_dir=str(private),
            artifact_dir=str(private / "artifacts"),
            project_dir=str(request.project),
            playbook=str(request.scenario.path),
            inventory=list(request.inventory) or None,
            limit=request.limit,
            extravars=dict(request.extra_vars),
            cmdline=cmdline(probe.playbook_args()),
            passwords=request.connection.passwords(),
            envvars=envvars(request.project, private),
            settings={**RUNNER_SETTINGS, "job_timeout": TIMEOUT},
            event_handler=handle,
            quiet=True,
            rotate_artifacts=0,
            )
        status = runner.status
    except Exception as exc:  # pylint: disable=broad-except  # a preview must never stop the question
        status = f"error ({_one_line(str(exc))})"
    finally:
        shutil.rmtree(private, ignore_errors=True)
    if not found:
        return [f"{name}: the read-only probe named no host ({status}); the hosts are those of the inventory and limit given"]
    lines = [f"{name} on {', '.join(sorted(found))}:"]
    for host in sorted(found):
        lines.append("  " + found[host].line())
        if found[host].note and not found[host].problem:
            lines.append("    " + found[host].note)
    return [redactor.text(line) for line in lines]


def _one_line(text: Any) -> str:
    said = " ".join(str(text or "no message").split())
    return said[:300]
