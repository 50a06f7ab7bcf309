# SPDX-License-Identifier: GPL-3.0-or-later
"""Time to recover, as the health_check role published it.

The role knows when it polled, so it says it once, where it is known: after
every poll it publishes with ``ansible.builtin.set_stats`` (aggregate) the
value ``runbook_recovery``: ``{host: {checks, last_healthy, down_at,
healthy_at}}``, times in epoch seconds on the controller's clock, ``""`` when
not (yet) seen. A host is first seen down by the first poll that did not answer
healthy at once (it needed more than one attempt, or ended unhealthy), at the
moment that poll began; it is healthy again at the end of the first healthy
poll after that. A run whose every check answered healthy at the first attempt
measured no downtime ("not measured"). This module only reads that value.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

HEALTH_ROLE = "health_check"


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
        return (f"{seconds_text(self.seconds)} (first seen down {_clock(self.down_at)}, "
                f"healthy again {_clock(self.healthy_at)} UTC)")


KEY = "runbook_recovery"


def from_published(values: dict[str, Any]) -> Recovery:
    """The Recovery the health_check role published (``runbook_recovery``); no hosts when none."""
    published = values.get(KEY)
    if not isinstance(published, dict):
        return Recovery()
    hosts = []
    for host, seen in sorted(published.items()):
        if not isinstance(seen, dict):
            continue
        hosts.append(HostRecovery(
            host=str(host),
            checks=_int(seen.get("checks"), 0),
            down_at=_moment(seen.get("down_at")),
            healthy_at=_moment(seen.get("healthy_at")),
            last_healthy=_truthy(seen["last_healthy"]) if "last_healthy" in seen else None,
        ))
    return Recovery(hosts)


def _moment(value: Any) -> datetime | None:
    """Epoch seconds (a number or its text) as an aware UTC datetime; None for "" or anything else."""
    if isinstance(value, bool):
        return None
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return None
    return datetime.fromtimestamp(seconds, tz=timezone.utc)


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


def seconds_text(seconds: float | None) -> str:
    if seconds is None:
        return "unknown"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(round(seconds)), 60)
    return f"{minutes}m {secs}s"
