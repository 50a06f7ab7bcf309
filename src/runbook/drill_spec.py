# SPDX-License-Identifier: GPL-3.0-or-later
"""The drills file (playbooks/drill/drills.yml, described at its top): read and checked.

A bad file is BadInput: one line naming the file, the drill and what is wrong.
The steady state's tests are a fixed small set (nothing is evaluated).
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from runbook.errors import BadInput

DRILLS_FILE = Path("playbooks") / "drill" / "drills.yml"
INJECTIONS = ("api_stopped", "engine_stopped", "api_hung", "postgres_blip", "disk_full",
              "certificate_expired", "cpu_hog", "broken_release")
PROBE_FIELDS = ("health", "db_health", "disk_max_pct", "cpu_top_pct", "certificate_days_left")
TESTS = ("equals", "at_least", "below")
KEYS = ("name", "failure", "injection", "expected", "steady_state", "recover_within", "needs")
REQUIRED = ("name", "failure", "injection", "expected", "steady_state")
DEFAULT_RECOVER_WITHIN = 900  # seconds: the guide's "verified <= 15 min"
_NAME = re.compile(r"[a-z0-9][a-z0-9-]*\Z")


@dataclass(frozen=True)
class Drill:
    name: str
    failure: str
    injection: str
    expected: str
    steady_state: dict[str, tuple[str, Any]]  # field -> (test, value)
    recover_within: int = DEFAULT_RECOVER_WITHIN
    needs: str = ""

    def steady(self, probe: dict[str, Any]) -> list[str]:
        """What in this probe reading breaks the steady state, as lines; [] when it holds."""
        return [f"{name} is {probe.get(name)!r}, wanted {test.replace('_', ' ')} {value!r}"
                for name, (test, value) in self.steady_state.items() if not holds(test, probe.get(name), value)]


def holds(test: str, found: Any, wanted: Any) -> bool:
    if test == "equals":
        return bool(found == wanted)
    if not isinstance(found, (int, float)) or isinstance(found, bool):
        return False  # a missing reading (no lineage, no answer) never passes a number test
    return found >= wanted if test == "at_least" else found < wanted


def load_drills(path: Path, scenarios: Collection[str]) -> list[Drill]:
    """Every drill of the file, checked, in its order."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise BadInput(f"{path}: cannot read the drills: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise BadInput(f"{path}: not valid YAML: {str(exc).splitlines()[0]}") from None
    if not isinstance(data, dict) or not isinstance(data.get("drills"), list) or not data["drills"]:
        raise BadInput(f"{path}: wants a mapping with a non-empty list `drills`")
    drills: list[Drill] = []
    for number, item in enumerate(data["drills"], start=1):
        drill = _drill(path, number, item, scenarios)
        if any(known.name == drill.name for known in drills):
            raise BadInput(f"{path}: drill {drill.name}: the name is used twice")
        drills.append(drill)
    return drills


def pick(drills: list[Drill], name: str | None, every: bool) -> list[Drill]:
    """The drills asked for: NAME, or all with --all; unknown: BadInput naming the known ones."""
    if every == (name is not None):
        raise BadInput("give one drill NAME or --all")
    if every:
        return list(drills)
    chosen = [drill for drill in drills if drill.name == name]
    if not chosen:
        raise BadInput(f"unknown drill {name!r}; known drills: {', '.join(d.name for d in drills)}")
    return chosen


def _drill(path: Path, number: int, item: Any, scenarios: Collection[str]) -> Drill:
    where = f"{path}: drill {number}"
    if not isinstance(item, dict):
        raise BadInput(f"{where}: wants a mapping")
    if isinstance(item.get("name"), str):
        where = f"{path}: drill {item['name']}"
    unknown = sorted(str(key) for key in item if key not in KEYS)
    if unknown:
        raise BadInput(f"{where}: unknown key {unknown[0]!r} (known: {', '.join(KEYS)})")
    missing = [key for key in REQUIRED if key not in item]
    if missing:
        raise BadInput(f"{where}: missing {', '.join(missing)}")
    for key in ("name", "failure", "injection", "expected"):
        if not isinstance(item[key], str) or not item[key].strip():
            raise BadInput(f"{where}: {key} wants a non-empty text")
    if not _NAME.match(item["name"]):
        raise BadInput(f"{where}: name wants lowercase letters, digits and dashes")
    if item["injection"] not in INJECTIONS:
        raise BadInput(f"{where}: unknown injection {item['injection']!r} (known: {', '.join(INJECTIONS)})")
    if item["expected"] not in scenarios:
        raise BadInput(f"{where}: expected {item['expected']!r} is not a scenario (runbook list)")
    within = item.get("recover_within", DEFAULT_RECOVER_WITHIN)
    if not isinstance(within, int) or isinstance(within, bool) or within <= 0:
        raise BadInput(f"{where}: recover_within wants a positive number of seconds")
    return Drill(item["name"], item["failure"].strip(), item["injection"], item["expected"],
                 _steady_state(where, item["steady_state"]), within, str(item.get("needs") or "").strip())


def _steady_state(where: str, raw: Any) -> dict[str, tuple[str, Any]]:
    if not isinstance(raw, dict) or not raw:
        raise BadInput(f"{where}: steady_state wants a mapping of probe fields to tests")
    found: dict[str, tuple[str, Any]] = {}
    for name, check in raw.items():
        if name not in PROBE_FIELDS:
            raise BadInput(f"{where}: steady_state reads unknown field {name!r} (known: {', '.join(PROBE_FIELDS)})")
        if not isinstance(check, dict) or len(check) != 1:
            raise BadInput(f"{where}: steady_state {name} wants one test, e.g. {{equals: 200}}")
        ((test, value),) = check.items()
        if test not in TESTS:
            raise BadInput(f"{where}: steady_state {name}: unknown test {test!r} (known: {', '.join(TESTS)})")
        if test != "equals" and (not isinstance(value, (int, float)) or isinstance(value, bool)):
            raise BadInput(f"{where}: steady_state {name}: {test} wants a number")
        found[str(name)] = (str(test), value)
    return found
