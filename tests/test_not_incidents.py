# SPDX-License-Identifier: GPL-3.0-or-later
"""Controller-side mistakes are bad input (exit 2), and dry runs and diagnoses are not incidents."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest

from runbook.cli import main
from runbook.report import write_report

from test_report import SECTIONS, make_run


@pytest.mark.parametrize(("assignment", "message"), [
    ("ansible_port=abc", "-e ansible_port='abc' is not accepted: give a port number (1 to 65535)"),
    ("ansible_port=70000", "-e ansible_port='70000' is not accepted: give a port number"),
    ("ansible_timeout=soon", "-e ansible_timeout='soon' is not accepted: give seconds"),
    ("ansible_become=maybe", "-e ansible_become='maybe' is not accepted: give true or false"),
    ("ansible_host=a b", "-e ansible_host='a b' is not a host name or address"),
])
def test_a_connection_variable_of_the_wrong_type_is_bad_input(assignment: str, message: str, project: Path,
                                                              runs: Path, inventory: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "scenario", "-i", str(inventory), "-e", assignment]) == 2
    err = capsys.readouterr().err
    assert err == f"runbook: error: {message}\n" or (err.startswith(f"runbook: error: {message}")
                                                     and err.count("\n") == 1), err
    assert not runs.exists() or not list(runs.iterdir())


def test_a_good_port_is_accepted_as_given(project: Path, runs: Path, inventory: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "scenario", "-i", str(inventory), "-e", "ansible_port=2222"]) == 0
    record = next(path for path in runs.iterdir() if path.is_dir()) / "run.json"
    assert '"ansible_port": "2222"' in record.read_text()


@pytest.mark.parametrize(("changes", "title", "record_line"), [
    ({"check": True}, "# Dry run: Complete service outage\n",
     "**Record:** dry run (`--check`): nothing was changed; not an incident (the scenario is P0 when run for real)"),
    ({"scenario": "diagnose", "title": "Quick diagnostics", "severity": "P3"}, "# Diagnosis: Quick diagnostics\n",
     "**Record:** diagnosis (read-only): nothing was changed; not an incident"),
], ids=["check", "diagnose"])
def test_a_dry_run_or_a_diagnosis_is_not_an_incident_report(changes: dict[str, object], title: str,
                                                            record_line: str, tmp_path: Path) -> None:
    run_dir, record = make_run(tmp_path)
    text = write_report(run_dir, dataclasses.replace(record, **changes)).read_text()
    assert text.startswith(title)
    assert "Incident Report" not in text and "**Severity:**" not in text
    assert record_line in text
    for section in SECTIONS:  # the other sections stay
        assert f"\n{section}\n" in text, section


def test_a_check_run_through_the_cli_writes_a_dry_run_record(project: Path, runs: Path, inventory: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "scenario", "-i", str(inventory), "--check"]) == 0
    report = next(path for path in runs.iterdir() if path.is_dir()) / "report.md"
    text = report.read_text()
    assert text.startswith("# Dry run: Test scenario\n") and "Severity: P1" not in text


@pytest.mark.skipif(shutil.which("ssh") is None, reason="needs an ssh client")
@pytest.mark.parametrize("scenario", ["diagnose", "outage"])
def test_an_unreachable_host_shows_the_connection_error_not_no_log(
        scenario: str, runs: Path, unreachable_inventory: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """The diagnosis hides its raw output (no_log), never the reason a host cannot be reached."""
    monkeypatch.delenv("RUNBOOK_PROJECT_DIR", raising=False)  # this repository's own playbooks
    monkeypatch.delenv("ANSIBLE_CONFIG", raising=False)
    monkeypatch.chdir(runs.parent)
    assert main(["run", scenario, "-i", str(unreachable_inventory), "--yes"]) == 3
    out = capsys.readouterr().out
    assert "ghost" in out and "unreachable" in out, out
    reasons = [line for line in out.splitlines()
               if "unreachable" in line and ("Connection refused" in line or "Failed to connect" in line)]
    assert reasons, out
    folder = next(path for path in runs.iterdir() if path.is_dir())
    report = (folder / "report.md").read_text()
    assert "Connection refused" in report or "Failed to connect" in report, report
