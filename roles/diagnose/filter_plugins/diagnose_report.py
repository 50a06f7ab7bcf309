"""Filters that turn what runbook_diagnose read on a host into what a person and the report read.

    {{ diagnose_probe | diagnose_redact }}               the probe, log lines and commands redacted
    {{ found | diagnose_data }}                          the published shape (the report's "Evidence")
    {{ found | diagnose_lines(inventory_hostname, 5) }}  the diagnosis as text lines, tables fixed-width

Redaction is the CLI's own `runbook.redact.redact_text` (ANSI stripped,
secrets replaced), the same rules the runbook_redact filter applies; when
ansible-playbook runs from a Python without the runbook package, it is
imported from this repository's `src/` directory.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

try:
    from runbook.redact import redact_text
except ImportError:
    # roles/diagnose/filter_plugins/diagnose_report.py -> the repository's src/
    sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "src"))
    from runbook.redact import redact_text

CONTAINER_KEYS = ("name", "state", "since", "restarts", "health")
SERVICE_KEYS = ("name", "state", "since")
DISK_KEYS = ("mount", "size", "used", "avail", "use_pct")
MEMORY_KEYS = ("total_mb", "used_mb", "available_mb", "swap_used_mb")
PROCESS_KEYS = ("pid", "user", "cpu", "mem", "command")


def diagnose_redact(probe: dict[str, Any]) -> dict[str, Any]:
    """A copy of the probe with its free text (log lines, process commands, notes) redacted."""
    found = dict(probe)
    found["log_errors"] = {name: [redact_text(line) for line in lines]
                           for name, lines in (probe.get("log_errors") or {}).items()}
    for key in ("top_cpu", "top_mem"):
        found[key] = [dict(process, command=redact_text(process.get("command", ""))) for process in probe.get(key) or []]
    found["notes"] = [redact_text(note) for note in probe.get("notes") or []]
    found["log_unread"] = {name: redact_text(reason) for name, reason in (probe.get("log_unread") or {}).items()}
    return found


def _pick(item: dict[str, Any], keys: Sequence[str]) -> dict[str, Any]:
    return {key: item.get(key) for key in keys}


def diagnose_data(found: dict[str, Any]) -> dict[str, Any]:
    """The diagnosis of one host in the published shape, nothing more."""
    return {
        "containers": [_pick(row, CONTAINER_KEYS) for row in found.get("containers") or []],
        "services": [_pick(row, SERVICE_KEYS) for row in found.get("services") or []],
        "disk": [_pick(row, DISK_KEYS) for row in found.get("disk") or []],
        "memory": _pick(found.get("memory") or {}, MEMORY_KEYS),
        "top_cpu": [_pick(row, PROCESS_KEYS) for row in found.get("top_cpu") or []],
        "top_mem": [_pick(row, PROCESS_KEYS) for row in found.get("top_mem") or []],
        "log_errors": {name: list(lines) for name, lines in (found.get("log_errors") or {}).items()},
    }


def age(seconds: float | None) -> str:
    """A duration as a person reads it: 45s, 12m, 3h05m, 2d04h."""
    if seconds is None:
        return ""
    seconds = max(0, int(seconds))
    if seconds < 60:
        return "%ds" % seconds
    if seconds < 3600:
        return "%dm" % (seconds // 60)
    if seconds < 86400:
        return "%dh%02dm" % (seconds // 3600, seconds % 3600 // 60)
    return "%dd%02dh" % (seconds // 86400, seconds % 86400 // 3600)


def table(header: Sequence[str], rows: Sequence[Sequence[Any]], indent: str = "  ") -> list[str]:
    """Fixed-width columns, the last one left unpadded (a command, a long value)."""
    cells = [[str(cell) for cell in row] for row in [header, *rows]]
    widths = [max(len(row[column]) for row in cells) for column in range(len(header))]
    return [indent + "  ".join(cell.ljust(width) for cell, width in zip(row[:-1], widths)) + "  " + row[-1]
            for row in cells]


def _since(row: dict[str, Any], now: float | None) -> str:
    if not row.get("since"):
        return "-"
    shown = row["since"].replace("T", " ")
    if now is None or row.get("since_epoch") is None:
        return shown
    return "%s (%s ago)" % (shown, age(now - row["since_epoch"]))


def _state_rows(found: dict[str, Any], now: float | None) -> list[list[Any]]:
    rows = []
    for unit in found.get("services") or []:
        sub_state = unit.get("sub_state") or ""
        state = unit["state"] + (" (%s)" % sub_state if sub_state and unit["state"] not in ("not-found", sub_state) else "")
        restarts = "-" if unit.get("restarts") is None else unit["restarts"]
        rows.append([unit["name"], "service", state, _since(unit, now), restarts, "-"])
    for container in found.get("containers") or []:
        state = container["state"]
        if state == "exited" and container.get("exit_code") is not None:
            state = "exited (%s)" % container["exit_code"]
        rows.append([container["name"], "container", state, _since(container, now), container["restarts"],
                     container["health"]])
    return rows


def _process_rows(processes: Sequence[dict[str, Any]]) -> list[list[Any]]:
    return [[p["pid"], p["user"], "%.1f" % p["cpu"], "%.1f" % p["mem"], p["command"]] for p in processes]


def diagnose_lines(found: dict[str, Any], host: str, shown_errors: int = 5) -> list[str]:
    """The diagnosis of one host as lines of text, for the terminal."""
    now = found.get("now_epoch")
    lines = ["Diagnosis of %s at %s" % (host, (found.get("now") or "?").replace("T", " "))]
    states = _state_rows(found, now)
    if states:
        lines += ["Services and containers:"]
        lines += table(["NAME", "KIND", "STATE", "SINCE", "RESTARTS", "HEALTH"], states)
    disk = found.get("disk") or []
    if disk:
        lines += ["Disk:"]
        lines += table(["MOUNT", "SIZE", "USED", "AVAIL", "USE%"],
                       [[row["mount"], row["size"], row["used"], row["avail"], "%d%%" % row["use_pct"]] for row in disk])
    memory = found.get("memory") or {}
    if memory.get("total_mb"):
        lines.append("Memory: %(total_mb)d MB total, %(used_mb)d MB used, %(available_mb)d MB available, "
                     "swap %(swap_used_mb)d MB used" % memory)
    for title, key in (("Top processes by CPU (average over each process's life, as ps shows it):", "top_cpu"),
                       ("Top processes by memory:", "top_mem")):
        if found.get(key):
            lines += [title] + table(["PID", "USER", "%CPU", "%MEM", "COMMAND"], _process_rows(found[key]))
    sources, unread = found.get("log_sources") or {}, found.get("log_unread") or {}
    for name, errors in (found.get("log_errors") or {}).items():
        source = sources.get(name, "its log")
        if name in unread:
            lines.append("Error lines of %s: not read (%s)" % (name, unread[name]))
            continue
        if not errors:
            lines.append("Error lines of %s: none in the %s" % (name, source))
            continue
        shown = errors[-shown_errors:] if shown_errors > 0 else []
        lines.append("Error lines of %s: the last %d of %d found in the %s:" % (name, len(shown), len(errors), source))
        lines += ["  " + line for line in shown]
    releases = [str(entry.get("commit", ""))[:12] for entry in found.get("releases") or []]
    if releases:
        lines.append("Releases that passed the health gate here, oldest first: " + ", ".join(releases))
    lines += ["Note: " + note for note in found.get("notes") or []]
    return lines


class FilterModule:
    """The diagnose role's filters."""

    def filters(self) -> dict[str, Callable[..., Any]]:
        return {"diagnose_redact": diagnose_redact, "diagnose_data": diagnose_data, "diagnose_lines": diagnose_lines}
