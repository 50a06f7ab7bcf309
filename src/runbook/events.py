"""Read ansible-runner events: what each task did on each host, and when."""

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
# Ansible's own argument-spec check before each role: not a runbook step.
_NOISE_PREFIX = "Validating arguments against arg spec"
_DEBUG_ACTIONS = ("debug", "ansible.builtin.debug", "ansible.legacy.debug")
_STAT_KEYS = ("ok", "changed", "failures", "dark", "skipped", "rescued", "ignored", "processed")


@dataclass(frozen=True)
class TaskResult:
    host: str
    task: str
    play: str
    status: str  # one of STATUSES
    start: datetime | None
    end: datetime | None
    message: str = ""
    note: str = ""  # what a debug task said, shown under the host's line

    @property
    def duration(self) -> float:
        if self.start is None or self.end is None:
            return 0.0
        return max((self.end - self.start).total_seconds(), 0.0)


def is_noise(task: str) -> bool:
    """True for tasks Ansible adds itself (role argument validation)."""
    return task.startswith(_NOISE_PREFIX)


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


def task_result(event: dict[str, Any]) -> TaskResult | None:
    """The host result carried by one event, or None for other events and Ansible's own checks."""
    status = _RESULT_EVENTS.get(str(event.get("event")))
    if status is None:
        return None
    data = event.get("event_data") or {}
    if is_noise(str(data.get("task") or "")):
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
        note=debug_note(res) if status == "ok" and data.get("task_action") in _DEBUG_ACTIONS else "",
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
