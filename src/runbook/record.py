# SPDX-License-Identifier: GPL-3.0-or-later
"""The record of each run: one folder per run id under the runs directory.

A run folder holds ansible-runner's artifacts (job_events/, stdout, status,
rc, command), our summary `run.json` and the incident report `report.md`.
"""

from __future__ import annotations

import getpass
import json
import re
import shutil
import socket
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from runbook.errors import BadInput

RUN_FILE = "run.json"
REPORT_FILE = "report.md"
RUNNING = "running"
# --incident: a ticket or incident id as trackers write them (INC-42, PD#1234, 2026.03.01-a).
INCIDENT_PATTERN = re.compile(r"[A-Za-z0-9_.#-]{1,64}")


@dataclass
class RunRecord:
    run_id: str
    scenario: str
    title: str
    section: str
    severity: str
    destructive: bool
    started: str  # ISO 8601, UTC
    command: str  # what was typed, secret values masked
    inventory: str | None = None
    limit: str | None = None
    check: bool = False
    extra_vars: dict[str, Any] = field(default_factory=dict)  # secret values masked
    finished: str | None = None
    duration: float | None = None  # seconds
    result: str = RUNNING  # ok | failed | unreachable | interrupted | error | running
    exit_code: int | None = None
    hosts: list[str] = field(default_factory=list)
    stats: dict[str, dict[str, int]] = field(default_factory=dict)
    published: dict[str, Any] = field(default_factory=dict)
    lock_token: str | None = None  # passed as runbook_lock_token; `runbook unlock-stale --token` takes it
    operator: str = ""  # who ran it: user@controller host
    incident: str | None = None  # --incident ID
    escalation_contacts: dict[str, Any] = field(default_factory=dict)  # from the inventory, read at the start
    runbook_version: str = ""  # the tool that ran it
    ansible_core_version: str = ""  # and the ansible-core it ran
    warnings: list[str] = field(default_factory=list)  # Python warnings of the CLI and of ansible-playbook
    triage: dict[str, Any] = field(default_factory=dict)  # triage --fix on a diagnosis run (runbook.triage_fix)

    @property
    def started_at(self) -> datetime:
        return datetime.fromisoformat(self.started)

    def finish(self, result: str, exit_code: int, now: datetime | None = None) -> None:
        end = now or utc_now()
        self.finished = end.isoformat()
        self.duration = round((end - self.started_at).total_seconds(), 3)
        self.result = result
        self.exit_code = exit_code

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunRecord:
        known = {name: data[name] for name in cls.__dataclass_fields__ if name in data}
        return cls(**known)


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def operator_id() -> str:
    """user@controller host of whoever runs the CLI."""
    try:
        user = getpass.getuser()
    except (OSError, KeyError):  # no login name and no passwd entry (some containers)
        user = "unknown"
    return f"{user}@{socket.gethostname() or 'unknown-host'}"


def check_incident(value: str | None) -> str | None:
    """The --incident id, or BadInput: letters, digits and -_.# only, at most 64."""
    if value is None:
        return None
    if not INCIDENT_PATTERN.fullmatch(value):
        raise BadInput("--incident takes 1-64 letters, digits or -_.# (e.g. INC-1234)")
    return value


def create_run_dir(runs: Path, scenario: str, now: datetime) -> tuple[str, Path]:
    """Make a fresh folder for a run; its name is the run id."""
    runs.mkdir(parents=True, exist_ok=True, mode=0o700)
    base = f"{now:%Y%m%d-%H%M%S}-{scenario}"
    for attempt in range(1, 1000):
        run_id = base if attempt == 1 else f"{base}-{attempt}"
        folder = runs / run_id
        try:
            folder.mkdir(mode=0o700)
        except FileExistsError:
            continue
        return run_id, folder
    raise RuntimeError(f"cannot create a run folder under {runs}")


def save(folder: Path, record: RunRecord) -> None:
    path = folder / RUN_FILE
    temporary = path.with_name(RUN_FILE + ".tmp")
    temporary.write_text(json.dumps(record.to_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    temporary.chmod(0o600)
    temporary.replace(path)


def load(folder: Path) -> RunRecord:
    data = json.loads((folder / RUN_FILE).read_text(encoding="utf-8"))
    return RunRecord.from_dict(data)


def find(runs: Path, run_id: str) -> Path:
    """The folder of a run, by id or by an unambiguous prefix of it."""
    exact = runs / run_id
    if "/" not in run_id and (exact / RUN_FILE).is_file():
        return exact
    matches = [folder for folder in _run_folders(runs) if folder.name.startswith(run_id)]
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        names = ", ".join(folder.name for folder in matches[:5])
        raise BadInput(f"run id {run_id!r} is ambiguous ({names})")
    raise BadInput(f"no run {run_id!r} in {runs} (see `runbook history`)")


def history(runs: Path) -> list[RunRecord]:
    """Every kept run, oldest first."""
    records = []
    for folder in _run_folders(runs):
        try:
            records.append(load(folder))
        except (OSError, ValueError, TypeError):
            continue
    return sorted(records, key=lambda record: record.started)


def discard(folder: Path) -> None:
    """Remove the folder of a run that never started anything."""
    shutil.rmtree(folder, ignore_errors=True)


def _run_folders(runs: Path) -> list[Path]:
    if not runs.is_dir():
        return []
    return sorted(folder for folder in runs.iterdir() if (folder / RUN_FILE).is_file())
