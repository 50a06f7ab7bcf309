# SPDX-License-Identifier: GPL-3.0-or-later
"""The incident report's "Data protection deadline" section.

security.yml (role security_incident, checklist) publishes with set_stats, per
host, when the incident was declared and the data protection authority's
deadline (72 hours later by default), formatted by the host's own `date` in
UTC and in the host's zone, with what was done and what is left to humans:

    security:
      web1:
        declared_at_utc: "2026-11-29 10:00 UTC"
        deadline_hours: 72
        authority_deadline_epoch: 1796205600
        authority_deadline_utc: "2026-12-02 10:00 UTC"
        authority_deadline_host: "2026-12-02 11:00 CET"
        done: [...]
        left_to_humans: [...]

Runs recorded before the values were keyed by host published one such
mapping directly under `security`; it is shown as "all hosts".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

KEY = "security"
TITLE = "## Data protection deadline"
_UNKNOWN = "unknown"


@dataclass(frozen=True)
class Deadline:
    """One host's deadline as the host formatted it."""

    host: str
    declared_utc: str
    hours: int
    epoch: int | None
    utc: str
    host_zone: str
    done: list[str] = field(default_factory=list)
    left_to_humans: list[str] = field(default_factory=list)


def deadlines(values: dict[str, Any]) -> list[Deadline]:
    """The published deadlines, earliest first; [] when the run published none."""
    published = values.get(KEY)
    if not isinstance(published, dict):
        return []
    per_host = {"all hosts": published} if "authority_deadline_utc" in published else published
    found = [_deadline(str(host), entry) for host, entry in sorted(per_host.items())
             if isinstance(entry, dict) and entry.get("authority_deadline_utc")]
    return sorted(found, key=lambda item: (item.epoch is None, item.epoch or 0, item.host))


def section(values: dict[str, Any]) -> list[str]:
    """The report's section (Markdown lines, starting with its title), or [] when nothing was published."""
    found = deadlines(values)
    if not found:
        return []
    first = found[0]
    lines = [
        TITLE,
        "",
        f"**Notify the data protection authority before {first.utc}** ({first.host_zone} on {_cell(first.host)}): "
        f"{first.hours} hours after the incident was declared ({first.declared_utc}).",
        "",
        "| Host | Declared | Deadline (UTC) | Deadline (host's zone) |",
        "|---|---|---|---|",
    ]
    lines += [f"| {_cell(item.host)} | {_cell(item.declared_utc)} | {_cell(item.utc)} | {_cell(item.host_zone)} |"
              for item in found]
    for title, items in (("Done by the playbook", first.done), ("Left to humans", first.left_to_humans)):
        if items:
            lines += ["", f"{title}:", ""] + [f"- {_one_line(item)}" for item in items]
    return lines


def _deadline(host: str, entry: dict[str, Any]) -> Deadline:
    return Deadline(
        host=host,
        declared_utc=str(entry.get("declared_at_utc") or _UNKNOWN),
        hours=_int(entry.get("deadline_hours")) or 72,
        epoch=_int(entry.get("authority_deadline_epoch")),
        utc=str(entry.get("authority_deadline_utc")),
        host_zone=str(entry.get("authority_deadline_host") or _UNKNOWN),
        done=_strings(entry.get("done")),
        left_to_humans=_strings(entry.get("left_to_humans")),
    )


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _strings(value: Any) -> list[str]:
    return [str(item) for item in value] if isinstance(value, list) else []


def _cell(text: str) -> str:
    return _one_line(text).replace("|", "\\|")


def _one_line(text: str) -> str:
    return " ".join(text.split())
