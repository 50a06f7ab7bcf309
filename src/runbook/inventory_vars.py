# SPDX-License-Identifier: GPL-3.0-or-later
"""The runbook's own settings kept in the inventory (notify URL, escalation contacts).

Read once per run with `ansible-inventory --list` (group and host vars merged
per host). Reading them never fails a run: any problem gives no settings and
a reason, which the caller may print as one warning line.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runbook.errors import BadInput
from runbook.escalation import CONTACTS_VAR
from runbook.runner import envvars

NOTIFY_URL_VAR = "runbook_notify_url"
# triage --fix's circuit breaker: read to check them before anything runs (the host reads its own)
TRIAGE_VARS = ("runbook_triage_max_fixes", "runbook_triage_window")
WANTED = (NOTIFY_URL_VAR, CONTACTS_VAR, *TRIAGE_VARS)
TIMEOUT = 30.0  # seconds; a normal inventory lists in about one


@dataclass
class InventorySettings:
    values: dict[str, Any] = field(default_factory=dict)
    problem: str = ""  # why nothing was read, or ""


def read_settings(project: Path, inventory: list[str], hosts_pattern: str = "app_servers") -> InventorySettings:
    """The runbook_* settings of the first host (of the scenario's group first) that sets them."""
    listing, problem = list_inventory(project, inventory)
    return InventorySettings(problem=problem) if problem else InventorySettings(values=pick(listing, hosts_pattern))


def list_inventory(project: Path, inventory: list[str], limit: str | None = None) -> tuple[Any, str]:
    """`ansible-inventory --list` (with --limit when given) as data, and "" or why it failed."""
    # It runs beside the playbook: at low CPU priority, so that the run's own
    # start is not slowed on a machine with few cores.
    command = _nice() + [_ansible_inventory(), "--list"]
    for source in inventory:
        command += ["-i", source]
    if limit:
        command += ["--limit", limit]
    private = Path(tempfile.mkdtemp(prefix="runbook-inventory-"))
    try:
        env = {**os.environ, **envvars(project, private)}  # the user's ansible.cfg, as the run has it
        done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT, env=env,
                              stdin=subprocess.DEVNULL, cwd=str(project), check=False,
                              start_new_session=True)  # the terminal's Ctrl-C is for the run, not for this
    except (OSError, subprocess.SubprocessError, BadInput) as exc:
        return None, f"ansible-inventory could not run: {exc}"
    finally:
        shutil.rmtree(private, ignore_errors=True)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        return None, f"ansible-inventory failed (exit {done.returncode}): {last[:200]}"
    try:
        return json.loads(done.stdout), ""
    except ValueError:
        return None, "ansible-inventory printed no JSON"


def group_hostvars(listing: Any, group: str = "app_servers") -> dict[str, dict[str, Any]]:
    """From `ansible-inventory --list` output: the merged vars of each host in `group` (and its children)."""
    if not isinstance(listing, dict):
        return {}
    meta = listing.get("_meta") if isinstance(listing.get("_meta"), dict) else {}
    hostvars = meta.get("hostvars") if isinstance(meta.get("hostvars"), dict) else {}
    found: dict[str, dict[str, Any]] = {}
    pending, seen = [group], set()
    while pending:
        name = pending.pop()
        entry = listing.get(name)
        if name in seen or not isinstance(entry, dict):
            continue
        seen.add(name)
        for host in entry.get("hosts") or []:
            values = hostvars.get(str(host))
            found[str(host)] = dict(values) if isinstance(values, dict) else {}
        pending += [str(child) for child in entry.get("children") or []]
    return found


def pick(listing: Any, hosts_pattern: str = "app_servers") -> dict[str, Any]:
    """From `ansible-inventory --list` output: each wanted var from the first host that has it."""
    if not isinstance(listing, dict):
        return {}
    meta = listing.get("_meta") if isinstance(listing.get("_meta"), dict) else {}
    hostvars = meta.get("hostvars") if isinstance(meta.get("hostvars"), dict) else {}
    group = listing.get(hosts_pattern) if isinstance(listing.get(hosts_pattern), dict) else {}
    first = [str(host) for host in group.get("hosts") or [] if str(host) in hostvars]
    order = first + sorted(host for host in hostvars if host not in first)
    found: dict[str, Any] = {}
    for name in WANTED:
        for host in order:
            values = hostvars.get(host)
            if isinstance(values, dict) and values.get(name) not in (None, "", {}):
                found[name] = values[name]
                break
    return found


def _nice() -> list[str]:
    nice = shutil.which("nice")
    return [nice, "-n", "10"] if nice else []


def _ansible_inventory() -> str:
    """ansible-inventory next to this Python (the venv's), else from PATH."""
    beside = Path(sys.executable).parent / "ansible-inventory"
    return str(beside) if beside.is_file() else "ansible-inventory"
