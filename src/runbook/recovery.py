# SPDX-License-Identifier: GPL-3.0-or-later
"""Time to recover, from what the health_check role saw during a run.

The role polls a URL until healthy or a deadline (its `runbook_health`
module; formerly a retried `ansible.builtin.uri`: any of the role's tasks
whose result carries `attempts` or `status`), records its verdict with
`set_fact` (`health_check_result.healthy`) and says it with `debug`; with
`health_check_fail` an unhealthy verdict also fails a task. Events are told
apart by their fields (`role`, `resolved_action`), not by task names.

Per host: the service is first seen down by the first poll that did not
answer healthy at once (it needed more than one attempt, or ended
unhealthy), at the moment that poll sent its first request (the task's end
minus the `elapsed` its module reports, else the task's start); it is seen
healthy again at the end of the first healthy poll after that. A run whose
every check answered healthy at the first attempt measured no downtime
("not measured").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from runbook.events import parse_time

HEALTH_ROLE = "health_check"
_FACT_ACTIONS = {"ansible.builtin.set_fact", "ansible.legacy.set_fact", "set_fact"}
_DEBUG_ACTIONS = {"ansible.builtin.debug", "ansible.legacy.debug", "debug"}
_FAIL_ACTIONS = {"ansible.builtin.fail", "ansible.legacy.fail", "fail"}
_RESULT_EVENTS = {"runner_on_ok", "runner_on_failed"}


@dataclass
class HostRecovery:
    host: str
    checks: int = 0
    down_at: datetime | None = None
    healthy_at: datetime | None = None
    last_healthy: bool | None = None

    @property
    def seconds(self) -> float | None:
        if self.down_at is None or self.healthy_at is None:
            return None
        return max((self.healthy_at - self.down_at).total_seconds(), 0.0)


@dataclass
class Recovery:
    hosts: list[HostRecovery] = field(default_factory=list)

    @property
    def down_at(self) -> datetime | None:
        moments = [host.down_at for host in self.hosts if host.down_at]
        return min(moments) if moments else None

    @property
    def healthy_at(self) -> datetime | None:
        """When the last host that was seen down was seen healthy again; None if one never was."""
        down = [host for host in self.hosts if host.down_at]
        if not down or any(host.healthy_at is None for host in down):
            return None
        return max(host.healthy_at for host in down if host.healthy_at)

    @property
    def seconds(self) -> float | None:
        if self.down_at is None or self.healthy_at is None:
            return None
        return max((self.healthy_at - self.down_at).total_seconds(), 0.0)

    def text(self) -> str:
        """One phrase for reports and notifications."""
        if not self.hosts:
            return "not measured (no health check ran)"
        if self.down_at is None:
            return "not measured (no health check failed)"
        if self.healthy_at is None:
            return f"not recovered (first seen down {_clock(self.down_at)} UTC, not healthy at the last check)"
        return (f"{_seconds_text(self.seconds)} (first seen down {_clock(self.down_at)}, "
                f"healthy again {_clock(self.healthy_at)} UTC)")


def measure(events: list[dict[str, Any]]) -> Recovery:
    """Walk the run's events in order and time each host's recovery."""
    hosts: dict[str, HostRecovery] = {}
    polls: dict[str, dict[str, Any]] = {}  # host -> the last poll not yet judged
    for event in events:
        if event.get("event") not in _RESULT_EVENTS:
            continue
        data = event.get("event_data") or {}
        if data.get("role") != HEALTH_ROLE:
            continue
        host = str(data.get("host", "?"))
        action = str(data.get("resolved_action") or data.get("task_action") or "")
        res = data.get("res") if isinstance(data.get("res"), dict) else {}
        if _is_poll(action, res):
            polls[host] = _poll(data, res)
            continue
        healthy = _verdict(action, event.get("event"), res)
        if healthy is None:
            continue
        poll = polls.pop(host, None)
        if poll is None:
            if action in _FAIL_ACTIONS and host in hosts and hosts[host].last_healthy is False:
                continue  # the fail that follows a verdict already counted
            moment = parse_time(data.get("start")) or parse_time(event.get("created"))
            poll = {"start": moment, "end": moment, "attempts": 1}
        _judge(hosts.setdefault(host, HostRecovery(host)), healthy, poll)
    return Recovery(sorted(hosts.values(), key=lambda item: item.host))


def _poll(data: dict[str, Any], res: dict[str, Any]) -> dict[str, Any]:
    """When the poll's first request went out and its last answer came: the task's own times, or,
    when the module says how long it polled (`elapsed`), its end minus that (the task's start also
    counts the connection and the module's transfer)."""
    start, end = parse_time(data.get("start")), parse_time(data.get("end"))
    elapsed = res.get("elapsed")
    if end is not None and isinstance(elapsed, (int, float)) and not isinstance(elapsed, bool) and elapsed >= 0:
        polled = end - timedelta(seconds=float(elapsed))
        start = polled if start is None else max(start, polled)
    return {"start": start, "end": end, "attempts": _int(res.get("attempts"), 1)}


def _is_poll(action: str, res: dict[str, Any]) -> bool:
    if action in _FACT_ACTIONS | _DEBUG_ACTIONS | _FAIL_ACTIONS or action.endswith("validate_argument_spec"):
        return False
    return "attempts" in res or "status" in res


def _judge(host: HostRecovery, healthy: bool, poll: dict[str, Any]) -> None:
    host.checks += 1
    host.last_healthy = healthy
    if host.down_at is None and (not healthy or poll["attempts"] > 1):
        host.down_at = poll["start"] or poll["end"]
    if healthy and host.down_at is not None and host.healthy_at is None:
        host.healthy_at = poll["end"] or poll["start"]


def _verdict(action: str, event_name: Any, res: dict[str, Any]) -> bool | None:
    """healthy True/False from the role's set_fact, debug or fail task; None for other tasks."""
    if action in _FACT_ACTIONS:
        facts = res.get("ansible_facts") if isinstance(res.get("ansible_facts"), dict) else {}
        result = facts.get("health_check_result")
        if isinstance(result, dict) and "healthy" in result:
            return _truthy(result["healthy"])
        return None
    if action in _DEBUG_ACTIONS:
        return None  # the set_fact before it already gave the verdict
    if action in _FAIL_ACTIONS and event_name == "runner_on_failed":
        return False
    return None


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "yes", "1")
    return bool(value)


def _int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _clock(moment: datetime) -> str:
    return f"{moment.astimezone(timezone.utc):%H:%M:%S}"


def _seconds_text(seconds: float | None) -> str:
    if seconds is None:
        return "unknown"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(round(seconds)), 60)
    return f"{minutes}m {secs}s"
