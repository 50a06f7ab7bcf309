# SPDX-License-Identifier: GPL-3.0-or-later
"""`runbook drill`: inject the guide's failures on staging hosts, recover by triage, always undo, measure.

Per drill and host: read the host (probe + snapshot); the steady state must
hold; inject; recover (runbook.drill_recover); poll the probe until the steady
state holds again; then, whatever happened (also on Ctrl-C), undo and read the
host again. A snapshot that differs after the undo fails the drill.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runbook import drill_release
from runbook.drill_host import Call, Host
from runbook.drill_recover import recover
from runbook.drill_report import DrillResult
from runbook.drill_spec import Drill
from runbook.errors import BadInput
from runbook.inventory_vars import group_hostvars, list_inventory

STAGING_VAR = "runbook_staging"
POLL_S = 3.0
WRONG_FIX_WAIT_S = 120
DISK_SLACK_PCT = 2  # a mount's use % may move this much between snapshots (logs grow)
_TRUE = ("true", "yes", "on", "1")


def is_staging(values: dict[str, Any]) -> bool:
    flag = values.get(STAGING_VAR)
    return flag is True or (isinstance(flag, str) and flag.strip().lower() in _TRUE)


def staging_hosts(project: Path, inventory: list[str], limit: str | None) -> list[str]:
    """The targeted hosts of app_servers, all marked runbook_staging: true; else BadInput, one line."""
    listing, problem = list_inventory(project, inventory, limit)
    if problem:
        raise BadInput(f"cannot read the inventory: {problem}")
    hosts = group_hostvars(listing)
    if not hosts:
        raise BadInput("no host of the group app_servers matches the inventory" + (f" and --limit {limit}"
                                                                                   if limit else ""))
    unmarked = sorted(host for host, values in hosts.items() if not is_staging(values))
    if unmarked:
        raise BadInput(f"refused: not marked {STAGING_VAR}: true in the inventory: {', '.join(unmarked)} "
                       f"(a drill breaks the host; it runs on staging hosts only)")
    return sorted(hosts)


def compare(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """What differs between two snapshots, as lines ([] when the host is as it was)."""
    if not after:
        return ["the host could not be read after the undo"]
    differences = [f"{key}: {_short(before.get(key))} before, {_short(after.get(key))} after"
                   for key in ("health", "release", "ledger_last", "ufw", "certificate", "services")
                   if before.get(key) != after.get(key) and not _ledger_caught_up(key, before, after)]
    disk_before, disk_after = before.get("disk_pct") or {}, after.get("disk_pct") or {}
    for mount in sorted(set(disk_before) | set(disk_after)):
        old, new = disk_before.get(mount), disk_after.get(mount)
        if old is None or new is None:
            differences.append(f"mount {mount}: {'not there' if old is None else 'there'} before, "
                               f"{'not there' if new is None else 'there'} after")
        elif abs(new - old) > DISK_SLACK_PCT:
            differences.append(f"mount {mount}: {old}% used before, {new}% after")
    return differences


def _ledger_caught_up(key: str, before: dict[str, Any], after: dict[str, Any]) -> bool:
    """The ledger is a record, not state: a drill that deploys and rolls back adds entries. Its last
    entry may differ after the drill when it names the release that runs, the one that ran before."""
    return key == "ledger_last" and after.get("ledger_last") == after.get("release") == before.get("release")


def _short(value: Any) -> str:
    text = str(value).replace("\n", " ")
    return text if len(text) <= 60 else text[:57] + "..."


@dataclass
class Drilling:
    """The drills of one command line, on its hosts."""

    project: Path
    inventory: list[str]
    say: Callable[[str], None]

    def run(self, drills: Iterable[Drill], hosts: Iterable[str], done: list[DrillResult]) -> None:
        """Each drill on each host in turn; results are appended to `done` as they end (kept on Ctrl-C)."""
        for drill in drills:
            for host in hosts:
                self.say(f"drill {drill.name} on {host}: {drill.failure}")
                result = DrillResult(drill.name, host, drill.failure, drill.expected)
                try:
                    self.one(drill, Host(self.project, self.inventory, host), result)
                finally:
                    done.append(result)
                verdict = "pass" if result.passed else "FAIL: " + "; ".join(result.failures())
                self.say(f"drill {drill.name} on {host}: {verdict}")

    def one(self, drill: Drill, host: Host, result: DrillResult) -> None:
        before = host.read()
        if not before:
            result.problems.append("the host could not be read before the drill: nothing injected")
            return
        holding = drill.steady(before["probe"])
        if holding:
            result.problems.append(f"the steady state does not hold before the drill ({'; '.join(holding)}): "
                                   f"nothing injected")
            result.left_as_found = True
            return
        kept: dict[str, str] = {}  # what the broken-release injection keeps for its undo
        try:
            self.break_and_recover(drill, host, result, kept)
        finally:
            self.say(f"  undo {drill.injection}")
            undo = self.undo(drill, host, kept)
            if undo.exit_code != 0:
                result.problems.append(f"the undo failed (exit {undo.exit_code}): {undo.reason}")
            after = host.read()
            result.differences = compare(before["snapshot"], after.get("snapshot", {}))
            result.left_as_found = undo.exit_code == 0 and not result.differences

    @staticmethod
    def inject(drill: Drill, host: Host, kept: dict[str, str]) -> Call:
        if drill.injection == drill_release.INJECTION:
            return drill_release.inject(host, kept)
        return host.inject(drill.injection)

    @staticmethod
    def undo(drill: Drill, host: Host, kept: dict[str, str]) -> Call:
        if drill.injection == drill_release.INJECTION:
            return drill_release.undo(host, kept)
        return host.undo(drill.injection)

    def break_and_recover(self, drill: Drill, host: Host, result: DrillResult, kept: dict[str, str]) -> None:
        self.say(f"  inject {drill.injection}")
        injected = self.inject(drill, host, kept)
        if injected.exit_code != 0:
            needs = f" (this drill needs {drill.needs})" if drill.needs else ""
            result.problems.append(f"the injection failed{needs}: {injected.reason}")
            return
        start = time.monotonic()  # the injection is done: detect and recover count from here
        self.say("  recover: runbook triage --fix --yes")
        asked = time.monotonic()
        found = recover(self.project, self.inventory, host.name)
        result.proposed = found.scenario
        if found.detect_s is not None and found.scenario:
            result.detect_s = round(asked - start + found.detect_s, 1)
        result.fix_s = None if found.fix_s is None else round(found.fix_s, 1)
        if found.problem:
            result.problems.append(found.problem)
        self.say(f"  triage proposed {found.scenario or 'nothing'} ({found.command or found.problem})")
        # a failed fix: one reading; another scenario than expected: a short wait (the drill fails anyway)
        within = 0 if found.problem else drill.recover_within if found.scenario == drill.expected else WRONG_FIX_WAIT_S
        deadline = start + within  # in the past when within is 0: one reading
        while True:
            reading = host.read()
            if reading and not drill.steady(reading["probe"]):
                result.recover_s = round(time.monotonic() - start, 1)
                return
            if time.monotonic() >= deadline:
                missing = drill.steady(reading["probe"]) if reading else ["the host could not be read"]
                result.problems.append(f"the steady state did not hold again: {'; '.join(missing)}")
                return
            time.sleep(POLL_S)
