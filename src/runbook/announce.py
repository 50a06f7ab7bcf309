# SPDX-License-Identifier: GPL-3.0-or-later
"""Around a run: read the runbook's inventory settings once, post the start and the end.

The inventory is read (`ansible-inventory --list`, about a second) and the
start posted in a background thread while the playbook already runs, so
neither adds to the run's time. `finish` waits for that thread, posts the
end and, in GitHub Actions, appends the summary to $GITHUB_STEP_SUMMARY.
Nothing here raises into the run: problems come back as warning lines.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from runbook import report
from runbook.escalation import configured_contacts
from runbook.inventory_vars import CONTACTS_VAR, NOTIFY_URL_VAR, InventorySettings, read_settings
from runbook.notify import ENV_VAR, TIMEOUT, Notifier, RunNotice, choose_url
from runbook.record import RunRecord
from runbook.redact import Redactor

_JOIN_TIMEOUT = 40.0  # the inventory read's own timeout (30 s) plus one post


class Announcer:
    def __init__(self, project: Path, inventory: list[str], hosts_pattern: str, redactor: Redactor,
                 environ: Mapping[str, str] | None = None, timeout: float = TIMEOUT) -> None:
        self.project = project
        self.inventory = inventory
        self.hosts_pattern = hosts_pattern
        self.redactor = redactor
        self.environ = os.environ if environ is None else environ
        self.timeout = timeout
        self.settings = InventorySettings()
        self.notifier = Notifier("", redactor, timeout)
        self._warnings: list[str] = []
        self._thread: threading.Thread | None = None

    def start(self, rec: RunRecord, limit: str | None) -> None:
        """Read the settings and post the start, in the background."""
        self.begin(make_notice(rec, start_hosts(self.hosts_pattern, limit)))

    def begin(self, notice: RunNotice) -> None:
        self._thread = threading.Thread(target=self._begin, args=(notice,), name="runbook-announce", daemon=True)
        self._thread.start()

    def finish(self, rec: RunRecord, facts: report.RunFacts | None = None, report_path: Path | None = None,
               what: str = "") -> list[str]:
        """Post the end (`what` overrides the result text); the step summary; every warning line."""
        failed = [f"{item.host}: {item.task}" for item in (facts.results if facts else [])
                  if item.status in ("failed", "unreachable")]
        ending = make_notice(rec, ", ".join(rec.hosts) or start_hosts(self.hosts_pattern, rec.limit),
                        result=rec.result, result_text=what or report.result_text(rec), exit_code=rec.exit_code,
                        time_to_recover=facts.recovery.text() if facts else "",
                        report=str(report_path or ""), failed_steps=failed)
        warnings = self.end(ending)
        if facts is not None and report_path is not None:
            warnings.append(report.append_step_summary(report.step_summary(rec, facts, report_path), self.redactor))
        return [line for line in warnings if line]

    def contacts(self) -> dict[str, Any]:
        """The inventory's escalation contacts (waits for the settings)."""
        self._wait()
        return configured_contacts(self.settings.values.get(CONTACTS_VAR))

    def end(self, notice: RunNotice) -> list[str]:
        """Post the end; every warning of the run's notifications, one line each."""
        self._wait()
        try:
            self.notifier.ended(notice)
        except Exception as exc:  # never fail a run over a notification
            self._warnings.append(f"runbook: warning: the end of the run was not posted: {exc}")
        return self._warnings + self.notifier.warnings

    def _begin(self, notice: RunNotice) -> None:
        try:
            self.settings = read_settings(self.project, self.inventory, self.hosts_pattern)
            url, problem = choose_url(self.environ.get(ENV_VAR), self.settings.values.get(NOTIFY_URL_VAR))
            if problem:
                self._warnings.append(f"runbook: warning: {problem}")
            if self.settings.problem and not url:
                self._warnings.append(f"runbook: warning: inventory settings not read: {self.settings.problem}")
            self.notifier = Notifier(url, self.redactor, self.timeout)
            self.notifier.started(notice)
        except Exception as exc:  # never fail a run over a notification
            self._warnings.append(f"runbook: warning: notifications are off: {exc}")

    def _wait(self) -> None:
        if self._thread is not None:
            self._thread.join(_JOIN_TIMEOUT)


def make_notice(rec: RunRecord, hosts: str, **ending: Any) -> RunNotice:
    """What to announce about a run; at the end also result, time to recover, report, failed steps."""
    return RunNotice(run_id=rec.run_id, scenario=rec.scenario, title=rec.title, hosts=hosts,
                     operator=rec.operator, incident=rec.incident, check=rec.check, **ending)


def start_hosts(hosts_pattern: str, limit: str | None) -> str:
    return f"{hosts_pattern} (limit {limit})" if limit else hosts_pattern
