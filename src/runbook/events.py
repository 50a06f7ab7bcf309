# SPDX-License-Identifier: GPL-3.0-or-later
"""Read ansible-runner events: what each task did on each host, and when.

Which results a person needs to see during a run is decided here from the
event's fields, never from a task's name: `worth_showing`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

# runner event name -> what happened on the host
_RESULT_EVENTS = {
    "runner_on_ok": "ok",
    "runner_on_failed": "failed",
    "runner_on_skipped": "skipped",
    "runner_on_unreachable": "unreachable",
    "runner_on_async_failed": "failed",
    "runner_on_async_ok": "ok",
}
STATUSES = ("ok", "changed", "failed", "ignored", "skipped", "unreachable")
_BUILTIN_PREFIXES = ("ansible.builtin.", "ansible.legacy.")
# Ansible's own argument-spec check before each role: not a runbook step.
ARGUMENT_CHECK = "validate_argument_spec"
DEBUG = "debug"
# Actions that only move data or structure inside Ansible; never a step on the host.
BOOKKEEPING_ACTIONS = frozenset({
    "set_fact", "set_stats", "include_role", "include_tasks", "import_role", "import_tasks",
    "import_playbook", "include_vars", "meta", "add_host", "group_by", ARGUMENT_CHECK,
})
# Roles whose steps are bookkeeping of the run itself (the run lock and its heartbeat).
BOOKKEEPING_ROLES = frozenset({"runbook_lock", "runbook_common"})
_STAT_KEYS = ("ok", "changed", "failures", "dark", "skipped", "rescued", "ignored", "processed")


def action_of(data: dict[str, Any]) -> str:
    """The module a task ran, without the builtin collection's prefix (`debug`, `set_fact`)."""
    action = str(data.get("resolved_action") or data.get("task_action") or "")
    for prefix in _BUILTIN_PREFIXES:
        if action.startswith(prefix):
            return action[len(prefix):]
    return action


@dataclass(frozen=True)
class TaskResult:
    host: str
    task: str
    play: str
    status: str  # one of STATUSES
    start: datetime | None
    end: datetime | None
    message: str = ""
    note: str = ""  # what a debug task said or a module warned, shown under the host's line
    role: str = ""  # the role the task belongs to; "" for a task of the play itself
    action: str = ""  # see action_of

    @property
    def duration(self) -> float:
        if self.start is None or self.end is None:
            return 0.0
        return max((self.end - self.start).total_seconds(), 0.0)

    @property
    def bookkeeping(self) -> bool:
        """Ansible's own data moves and checks, and the run lock's steps: no change to the host's service."""
        return self.action in BOOKKEEPING_ACTIONS or self.role in BOOKKEEPING_ROLES


def worth_showing(result: TaskResult) -> bool:
    """Whether the quiet live progress shows this result.

    Shown: every failure and unreachable host (bookkeeping too), every change
    that is not bookkeeping, and what a debug task said (the health gate's
    verdict, the diagnosis, the snapshot's name: a message to the operator,
    from any role). Hidden: skipped steps, ignored failures, plain ok steps,
    and bookkeeping that went well.
    """
    if result.status in ("failed", "unreachable"):
        return True
    if result.status == "ok":  # a debug message, or a module's warning (a stale lock taken over)
        return bool(result.note.strip())
    return result.status == "changed" and not result.bookkeeping


def result_note(res: dict[str, Any], action: str) -> str:
    """What a debug task printed, and any warning a module gave, as lines."""
    lines = [debug_note(res)] if action == DEBUG else []
    lines += [f"warning: {' '.join(str(text).split())}" for text in res.get("warnings") or []]
    return "\n".join(line for line in lines if line)


def debug_note(res: dict[str, Any]) -> str:
    """What a debug task printed, as lines."""
    msg = res.get("msg")
    if msg is None:
        return ""
    if isinstance(msg, list):
        lines = []
        for item in msg:
            lines.extend(debug_note({"msg": item}).splitlines() if isinstance(item, list) else [str(item)])
        return "\n".join(lines)
    return str(msg)


def task_result(event: dict[str, Any], argument_checks: bool = False) -> TaskResult | None:
    """The host result carried by one event, or None for other events.

    Ansible's own argument-spec checks that passed count only with
    `argument_checks` (`runbook run -v` shows them; the report leaves them out).
    """
    status = _RESULT_EVENTS.get(str(event.get("event")))
    if status is None:
        return None
    data = event.get("event_data") or {}
    action = action_of(data)
    if action == ARGUMENT_CHECK and status in ("ok", "skipped") and not argument_checks:
        return None
    res = data.get("res") if isinstance(data.get("res"), dict) else {}
    if status == "ok" and res.get("changed"):
        status = "changed"
    if status == "failed" and data.get("ignore_errors"):
        status = "ignored"
    end = parse_time(data.get("end")) or parse_time(event.get("created"))
    return TaskResult(
        host=str(data.get("host", "?")),
        task=str(data.get("task") or data.get("task_action") or "?"),
        play=str(data.get("play", "")),
        status=status,
        start=parse_time(data.get("start")) or end,
        end=end,
        message=failure_message(res) if status in ("failed", "ignored", "unreachable") else "",
        note=result_note(res, action) if status in ("ok", "changed") else "",
        role=str(data.get("role") or ""),
        action=action,
    )


def failure_message(res: dict[str, Any]) -> str:
    """One line saying why a task failed."""
    if res.get("censored"):
        return "output hidden (no_log)"
    parts = []
    msg = res.get("msg")
    if msg:
        parts.append(str(msg))
    stderr = str(res.get("stderr") or "").strip()
    if stderr:
        parts.append(stderr.splitlines()[-1])
    elif not parts and res.get("stdout"):
        parts.append(str(res["stdout"]).strip().splitlines()[-1])
    text = " | ".join(part.strip() for part in parts if part.strip())
    text = " ".join(text.split())
    return text[:300] + ("..." if len(text) > 300 else "")


def is_stats(event: dict[str, Any]) -> bool:
    return event.get("event") == "playbook_on_stats"


def stats_of(event: dict[str, Any]) -> dict[str, dict[str, int]]:
    data = event.get("event_data") or {}
    return {key: dict(data.get(key) or {}) for key in _STAT_KEYS}


def published_of(event: dict[str, Any]) -> dict[str, Any]:
    """Values the playbook published with ansible.builtin.set_stats (aggregate)."""
    data = event.get("event_data") or {}
    published = data.get("artifact_data") or {}
    return dict(published) if isinstance(published, dict) else {}


def hosts_of(stats: dict[str, dict[str, int]]) -> list[str]:
    hosts: set[str] = set()
    for per_host in stats.values():
        hosts.update(per_host)
    return sorted(hosts)


def read_events(artifact_dir: Path) -> list[dict[str, Any]]:
    """All events kept for a run, in order (job_events/<counter>-<uuid>.json)."""
    events = []
    for path in (artifact_dir / "job_events").glob("*.json"):
        if path.name.endswith("-partial.json"):
            continue
        try:
            events.append(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            continue
    return sorted(events, key=lambda event: int(event.get("counter", 0)))


def parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None
