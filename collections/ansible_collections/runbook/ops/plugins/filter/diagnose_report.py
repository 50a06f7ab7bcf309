# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Filters that turn what runbook_diagnose read on a host into what a person and the report read.

    {{ diagnose_probe | diagnose_redact }}               the probe, log lines and commands redacted
    {{ found | diagnose_data }}                          the published shape (the report's "Evidence")
    {{ found | diagnose_lines(inventory_hostname, 5) }}  the diagnosis as text lines, tables fixed-width

With the whole guide read (runbook_diagnose guide=true), `found.guide` holds
its items; the message then opens with one line per item (what `runbook run`
shows first) and the published data carries `guide` and `checks` (those lines
as {check, result} for the report). An item whose source is absent reads
"unknown (reason)".

Redaction is the CLI's own `runbook.redact.redact_text` (ANSI stripped,
secrets replaced), the same rules the runbook_redact filter applies; when
ansible-playbook runs from a Python without the runbook package, it is
imported from this repository's `src/` directory.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

try:
    from runbook import diagnosis
    from runbook.redact import redact_text
except ImportError:
    # collections/ansible_collections/runbook/ops/plugins/filter/ -> the repository's src/
    sys.path.insert(0, str(Path(__file__).resolve().parents[6] / "src"))
    from runbook import diagnosis
    from runbook.redact import redact_text

# The published shape is defined once, in runbook.diagnosis (the report reads it from there too).
CONTAINER_KEYS = diagnosis.published("containers")
SERVICE_KEYS = diagnosis.fields("services")
DISK_KEYS = diagnosis.fields("disk")
MEMORY_KEYS = diagnosis.fields("memory")
PROCESS_KEYS = diagnosis.fields("top_cpu")


def diagnose_redact(probe: dict[str, Any]) -> dict[str, Any]:
    """A copy of the probe with its free text (log lines, process commands, notes) redacted,
    and without the run lock the probe may have taken or the arguments it was called with
    (the lock's token is the run's own)."""
    found = dict(probe)
    found.pop("lock", None)
    found.pop("invocation", None)
    found["log_errors"] = {name: [redact_text(line) for line in lines]
                           for name, lines in (probe.get("log_errors") or {}).items()}
    for key in ("top_cpu", "top_mem"):
        found[key] = [dict(process, command=redact_text(process.get("command", ""))) for process in probe.get(key) or []]
    found["notes"] = [redact_text(note) for note in probe.get("notes") or []]
    found["log_unread"] = {name: redact_text(reason) for name, reason in (probe.get("log_unread") or {}).items()}
    if "guide" in probe:
        found["guide"] = _redact_strings(probe["guide"])
    return found


def _redact_strings(value: Any) -> Any:
    """A copy with every string redacted (URLs with credentials, reasons that quote a command's output)."""
    if isinstance(value, dict):
        return {key: _redact_strings(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_redact_strings(item) for item in value]
    return redact_text(value) if isinstance(value, str) else value


def _pick(item: dict[str, Any], keys: Sequence[str]) -> dict[str, Any]:
    return {key: item.get(key) for key in keys}


def diagnose_data(found: dict[str, Any]) -> dict[str, Any]:
    """The diagnosis of one host in the published shape, nothing more."""
    data = {
        "containers": [_pick(row, CONTAINER_KEYS) for row in found.get("containers") or []],
        "services": [_pick(row, SERVICE_KEYS) for row in found.get("services") or []],
        "disk": [_pick(row, DISK_KEYS) for row in found.get("disk") or []],
        "memory": _pick(found.get("memory") or {}, MEMORY_KEYS),
        "top_cpu": [_pick(row, PROCESS_KEYS) for row in found.get("top_cpu") or []],
        "top_mem": [_pick(row, PROCESS_KEYS) for row in found.get("top_mem") or []],
        "log_errors": {name: list(lines) for name, lines in (found.get("log_errors") or {}).items()},
    }
    if isinstance(found.get("guide"), dict):
        data["guide"] = found["guide"]
        data["checks"] = [{"check": check, "result": result} for check, result in guide_checks(found)]
    return data


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


def _unknown(item: dict[str, Any]) -> str:
    return "unknown (%s)" % item.get("error", "not read")


def _health(item: dict[str, Any]) -> str:
    if not item.get("url"):
        return _unknown(item)
    status = item.get("status")
    if status is None:
        return "NOT healthy: no answer from GET %s (%s)" % (item["url"], item.get("error") or "?")
    verdict = "healthy" if status == 200 else "NOT healthy"
    return "%s: %s in %.2fs from GET %s" % (verdict, status, item.get("elapsed") or 0, item["url"])


def _days(item: dict[str, Any]) -> str:
    days = item["days_left"]
    until = str(item.get("not_after", "")).replace("T", " ")
    if days < 0:
        return "EXPIRED since %s" % until
    return "%d day%s left (until %s)" % (days, "" if days == 1 else "s", until)


def _certificate_file(cert: dict[str, Any]) -> str:
    item = cert.get("file") or {}
    return "%s, %s" % (_days(item), item.get("path")) if item.get("found") else _unknown(item)


def _certificate_served(cert: dict[str, Any]) -> str:
    item = cert.get("served") or {}
    if not item.get("found"):
        return _unknown(item)
    if cert.get("same"):
        relation = "the lineage's certificate"
    elif (cert.get("file") or {}).get("found"):
        relation = "NOT the lineage's certificate (renewed but not loaded?)"
    else:
        relation = "serial %s" % item.get("serial")
    return "%s, %s on %s for %s" % (_days(item), relation, item.get("address"), cert.get("domain") or "no SNI")


def _lock(item: dict[str, Any], now: float | None) -> str:
    if item.get("error"):
        return _unknown(item)
    if not item.get("held"):
        return "free"
    started = item.get("started") or "?"
    if now is not None and item.get("started_epoch") is not None:
        started = "%s (%s ago)" % (started.replace("T", " "), age(now - item["started_epoch"]))
    beat = item.get("heartbeat_age")
    text = "held by %s (%s) since %s, last heartbeat %s ago" % (
        item.get("owner") or "an unknown run", item.get("scenario") or "unknown scenario", started, age(beat))
    if item.get("stale"):
        text += ": stale, `runbook unlock-stale` gives it back"
    return text


def _release(item: dict[str, Any]) -> str:
    if item.get("error") or not item.get("commit"):
        return _unknown(item)
    when = str(item.get("time") or "?").replace("T", " ")
    if item.get("age") is not None:
        when += " (%s ago)" % age(item["age"])
    return "%s at %s%s" % (str(item.get("commit"))[:12], when, ", by " + item["scenario"] if item.get("scenario") else "")


def _backup(item: dict[str, Any]) -> str:
    if item.get("error") or not item.get("file"):
        return _unknown(item)
    return "%s, %s old (%s), %d file%s in %s" % (
        item["file"], age(item["age"]), str(item["time"]).replace("T", " "), item["files"],
        "" if item["files"] == 1 else "s", item["dir"])


def _firewall(item: dict[str, Any]) -> str:
    if not item.get("state"):
        return _unknown(item)
    rules = item.get("rules")
    count = "rules unknown (%s)" % item.get("error") if rules is None else "%d rule%s" % (rules, "" if rules == 1 else "s")
    return "%s, %s" % (item["state"], count)


def _failed_units(item: dict[str, Any]) -> str:
    if item.get("error"):
        return _unknown(item)
    units = item.get("units") or []
    return "%d: %s" % (len(units), ", ".join(units)) if units else "none"


def _docker_disk(item: dict[str, Any]) -> str:
    if item.get("error"):
        return _unknown(item)
    parts = []
    for row in item.get("rows") or []:
        reclaimable = str(row.get("reclaimable") or "").split(" ", maxsplit=1)[0]
        part = "%s %d, %s" % (str(row.get("type", "")).lower().replace("local ", ""), row.get("count", 0), row.get("size"))
        if reclaimable and float(re.sub(r"[^0-9.]", "", reclaimable) or 0) > 0:
            part += " (%s reclaimable)" % reclaimable
        parts.append(part)
    return "; ".join(parts) or "nothing"


def _resources(item: dict[str, Any]) -> str:
    if item.get("memory_pct") is None and item.get("cpu_pct") is None:
        return _unknown(item)
    over = [name for name, key in (("memory", "memory_over"), ("CPU", "cpu_over")) if item.get(key)]
    return "memory %s%% used (limit %s%%), CPU %s%% busy (limit %s%%), load %s on %s CPU%s (limit %s%% per CPU)%s" % (
        item.get("memory_pct"), item.get("memory_pct_max"), item.get("cpu_pct"), item.get("cpu_pct_max"),
        item.get("load1"), item.get("cpus"), "" if item.get("cpus") == 1 else "s", item.get("load_pct_max"),
        ": %s OVER the limit" % " and ".join(over) if over else "")


def _count(item: dict[str, Any], what: str) -> str:
    """N <what> in the last M minutes (source)."""
    if item.get("error") or item.get("count") is None:
        return _unknown(item)
    return "%d%s in the last %s min (%s)" % (item["count"], " " + what if what else "", item.get("window_min"),
                                             item.get("source") or "?")


def _oom(item: dict[str, Any]) -> str:
    if item.get("error") and not item.get("containers"):
        return _unknown(item)
    text = _count(item, "") if not item.get("error") else "kernel log unknown (%s)" % item["error"]
    containers = item.get("containers") or []
    return text + ("; OOM-killed containers: %s" % ", ".join(containers) if containers else "")


def _logins(item: dict[str, Any]) -> str:
    text = _count(item, "failed SSH logins")
    if item.get("error"):
        return text
    sources = item.get("sources") or ""
    return text + (", from " + sources if sources else "") + (
        ": a BURST (limit %s)" % item.get("max") if item.get("burst") else "")


def _env_file(item: dict[str, Any]) -> str:
    if not item.get("found"):
        return _unknown(item)
    text = ".env changed %s ago" % age(item.get("age"))
    changed = item.get("changed_after_release")
    if item.get("explained_by"):
        return text + ", by %s (its SHA-256 is the one that run noted)" % item["explained_by"]
    if changed is None:
        return text + ", not compared (%s)" % (item.get("error") or "?")
    if changed:
        return text + ", AFTER the last recorded release (%s)" % str(item.get("last_release_time")).replace("T", " ")
    return text + ", before the last recorded release"


def guide_checks(found: dict[str, Any]) -> list[tuple[str, str]]:
    """(check, result) for each item of the guide, in the order a person reads them; [] without the guide."""
    guide = found.get("guide")
    if not isinstance(guide, dict):
        return []
    now = found.get("now_epoch")
    cert = guide.get("certificate") or {}
    domain = cert.get("domain") or "?"
    return [
        ("API health", _health(guide.get("health") or {})),
        ("Database health", _health(guide.get("db_health") or {})),
        ("Certificate file (%s)" % domain, _certificate_file(cert)),
        ("Certificate served", _certificate_served(cert)),
        ("Run lock", _lock(guide.get("lock") or {}, now)),
        ("Last healthy release", _release(guide.get("last_release") or {})),
        ("Last backup", _backup(guide.get("backup") or {})),
        ("Firewall (ufw)", _firewall(guide.get("firewall") or {})),
        ("Failed systemd units", _failed_units(guide.get("failed_units") or {})),
        ("Docker disk", _docker_disk(guide.get("docker_disk") or {})),
    ] + _signs(guide)


def _signs(guide: dict[str, Any]) -> list[tuple[str, str]]:
    """The signs of sections 6, 3 and 8 in three lines, when the diagnosis read them."""
    if not all(isinstance(guide.get(key), dict) for key in ("resources", "oom", "payments", "env_file", "failed_logins")):
        return []
    return [
        ("Memory and CPU", "%s; OOM kills: %s" % (_resources(guide["resources"]), _oom(guide["oom"]))),
        ("Payment errors", _count(guide["payments"], "payment error lines")),
        ("Signs of compromise", "%s; %s" % (_env_file(guide["env_file"]), _logins(guide["failed_logins"]))),
    ]


def diagnose_lines(found: dict[str, Any], host: str, shown_errors: int = 5) -> list[str]:
    """The diagnosis of one host as lines of text, for the terminal."""
    now = found.get("now_epoch")
    lines = ["Diagnosis of %s at %s" % (host, (found.get("now") or "?").replace("T", " "))]
    lines += ["%s: %s" % (check, result) for check, result in guide_checks(found)]
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
