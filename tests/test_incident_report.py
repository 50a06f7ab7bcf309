# SPDX-License-Identifier: GPL-3.0-or-later
"""`runbook report --incident ID`: one postmortem from every run of an incident; history filters."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from runbook import incident
from runbook.cli import main
from runbook.record import RUN_FILE, RunRecord
from runbook.redact import Redactor

AT = datetime(2026, 3, 1, 10, 0, tzinfo=timezone.utc).timestamp()


def kept_run(runs: Path, run_id: str, scenario: str, started: str, finished: str, **changes: object) -> None:
    """A run folder as the CLI keeps it (run.json; no events)."""
    values: dict = dict(run_id=run_id, scenario=scenario, title=scenario.title(), section="1", severity="P1",
                        destructive=False, started=started, command=f"runbook run {scenario}", finished=finished,
                        duration=(datetime.fromisoformat(finished) - datetime.fromisoformat(started)).total_seconds(),
                        result="ok", exit_code=0, hosts=["web1"], incident="INC-42",
                        runbook_version="0.2.0", ansible_core_version="2.19.14")
    values.update(changes)
    folder = runs / run_id
    folder.mkdir(parents=True)
    (folder / RUN_FILE).write_text(json.dumps(RunRecord(**values).to_dict()))


def test_three_runs_make_one_postmortem_with_impact_start_and_recovery(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    kept_run(runs, "r1-diagnose", "diagnose", "2026-03-01T10:00:10+00:00", "2026-03-01T10:00:20+00:00",
             severity="P3")
    kept_run(runs, "r2-outage", "outage", "2026-03-01T10:01:00+00:00", "2026-03-01T10:01:40+00:00",
             severity="P0", result="failed", exit_code=1,
             published={"runbook_recovery": {"web1": {"checks": 2, "last_healthy": False,
                                                      "down_at": AT + 5, "healthy_at": ""}}})
    kept_run(runs, "r3-outage", "outage", "2026-03-01T10:03:00+00:00", "2026-03-01T10:03:30+00:00",
             severity="P0", published={"runbook_recovery": {"web1": {"checks": 2, "last_healthy": True,
                                                                    "down_at": AT + 185, "healthy_at": AT + 205}}})
    kept_run(runs, "r4-other", "disk", "2026-03-01T10:02:00+00:00", "2026-03-01T10:02:30+00:00", incident="INC-7")

    text = incident.write(runs, "INC-42", Redactor()).read_text()
    assert text.startswith("# Incident Report: Outage\n")
    assert "**Severity:** P0" in text  # the highest of the acting runs; diagnose only looks
    assert "**Runs:** 3 (diagnose, outage)" in text and "r4-other" not in text
    assert "**Tool:** runbook 0.2.0 (ansible-core 2.19.14)" in text
    # impact start: the first time a health check saw it down (10:00:05), resolved at 10:03:25
    assert "**Duration:** 3m 20s (impact start to healthy again)" in text
    timeline = text.split("## Timeline")[1].split("## Root Cause")[0]
    order = ["10:00:05 UTC: Impact start", "10:00:10 UTC: Detected", "10:00:10 UTC: Run `r1-diagnose`",
             "10:01:00 UTC: Run `r2-outage`: `outage` on web1: Failed (exit 1)", "10:03:00 UTC: Run `r3-outage`",
             "10:03:25 UTC: Resolved"]
    positions = [timeline.index(item) for item in order]
    assert positions == sorted(positions)
    assert "- Downtime: 3m 20s (from the health checks)" in text
    assert "Financial impact: _To be filled in._" in text and "EUR" not in text and "€" not in text
    assert "**Status:** draft" in text
    assert "| Item | Owner | Due |" in text


def test_what_a_person_wrote_survives_and_an_edited_block_is_kept(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    kept_run(runs, "r1", "outage", "2026-03-01T10:01:00+00:00", "2026-03-01T10:01:40+00:00")
    path = incident.write(runs, "INC-42")
    written = path.read_text().replace("_One paragraph: what users saw, how it was detected, what brought it back._",
                                       "Checkout returned 502 for 20 minutes.")
    written = written.replace("**Status:** draft (write `final` here once the postmortem is reviewed)",
                              "**Status:** final")
    path.write_text(written)
    kept_run(runs, "r2", "outage", "2026-03-01T10:05:00+00:00", "2026-03-01T10:05:30+00:00")
    again = incident.write(runs, "INC-42")
    assert again == path
    text = again.read_text()
    assert "Checkout returned 502 for 20 minutes." in text and "**Status:** final" in text
    assert "Run `r2`" in text  # the generated parts took the new run

    path.write_text(text.replace("Run `r2`", "Run `r2` (edited)"))
    kept = incident.write(runs, "INC-42")
    assert kept.name == "INC-42.generated.md" and "(edited)" in path.read_text()


def test_an_unknown_or_malformed_incident_is_refused(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    kept_run(runs, "r1", "outage", "2026-03-01T10:01:00+00:00", "2026-03-01T10:01:40+00:00")
    with pytest.raises(Exception, match="no kept run has --incident INC-9"):
        incident.write(runs, "INC-9")
    with pytest.raises(Exception, match="use 1-64 letters"):
        incident.write(runs, "../../etc")
    assert not (runs / "incidents").exists() or not any((runs / "incidents").iterdir())


def test_the_cli_merges_real_runs_of_one_incident(project: Path, runs: Path, inventory: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "scenario", "-i", str(inventory), "--incident", "INC-42"]) == 0
    assert main(["run", "scenario", "-i", str(inventory), "--incident", "INC-42", "-e", "fail_step=true"]) == 1
    assert main(["run", "scenario", "-i", str(inventory), "--incident", "INC-7"]) == 0
    capsys.readouterr()

    assert main(["history", "--incident", "INC-42", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [row["result"] for row in rows] == ["ok", "failed"] and {row["incident"] for row in rows} == {"INC-42"}
    assert main(["history", "--result", "failed", "--json"]) == 0
    assert [row["incident"] for row in json.loads(capsys.readouterr().out)] == ["INC-42"]

    assert main(["report", "--incident", "INC-42"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# Incident Report: Test scenario\n")
    assert "**Runs:** 2 (scenario)" in out
    assert (runs / "incidents" / "INC-42.md").read_text() == out

    assert main(["report", "--incident", "INC-404"]) == 2
    assert capsys.readouterr().err.startswith("runbook: error: no kept run has --incident INC-404")
    assert main(["report"]) == 2
    assert "RUN_ID" in capsys.readouterr().err
