# SPDX-License-Identifier: GPL-3.0-or-later
"""The scenario catalog is read from the playbooks' runbook_scenario header."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runbook.catalog import CatalogError, load_catalog, read_scenario
from runbook.cli import main
from runbook.errors import BadInput
from runbook.listing import listing


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


HEADER = """\
- name: Runbook 7 | Rollback
  hosts: app_servers
  vars:
    runbook_scenario:
      title: Failed deployment
      section: 7
      severity: {severity}
      destructive: true
      extra_vars:
        commit:
          description: Target commit
          default: HEAD~1
          pattern: '^([0-9a-fA-F]{{7,40}}|HEAD~[0-9]+)$'
        force_renewal:
          default: false
          type: bool
        payments:
          choices: ["off", "on"]
  tasks: []
- name: Second play
  hosts: localhost
  tasks: []
"""


def test_reads_the_header_of_the_first_play(tmp_path: Path) -> None:
    scenario = read_scenario(write(tmp_path / "rollback.yml", HEADER.format(severity="P1")))
    assert scenario.name == "rollback"
    assert scenario.title == "Failed deployment"
    assert scenario.section == "7"
    assert scenario.severity == "P1"
    assert scenario.destructive is True
    assert scenario.hosts == "app_servers"
    assert list(scenario.extra_vars) == ["commit", "force_renewal", "payments"]
    assert scenario.extra_vars["commit"].pattern.startswith("^(")
    assert scenario.extra_vars["commit"].default == "HEAD~1"
    assert scenario.extra_vars["force_renewal"].type == "bool"
    assert scenario.extra_vars["payments"].choices == ("off", "on")
    assert scenario.extra_vars["payments"].type == "str"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("- name: x\n  hosts: all\n  tasks: []\n", "no vars.runbook_scenario"),
        ("not: a playbook\n", "not a playbook"),
        ("- name: [unclosed\n", "YAML"),
        (HEADER.format(severity="P5"), "severity"),
        (HEADER.replace("type: bool", "type: float").format(severity="P0"), "type"),
        (HEADER.replace("HEAD~[0-9]+)$", "HEAD~[0-9+)$").format(severity="P0"), "not a valid regex"),
    ],
)
def test_broken_or_missing_headers_are_rejected_with_a_reason(tmp_path: Path, text: str, reason: str) -> None:
    with pytest.raises(CatalogError, match=reason):
        read_scenario(write(tmp_path / "bad.yml", text))


def test_ansible_tags_do_not_break_reading(tmp_path: Path) -> None:
    text = HEADER.format(severity="P2").replace("  tasks: []\n- name: Second", "  tasks:\n    - ansible.builtin.debug:\n        msg: !unsafe '{{ x }}'\n- name: Second", 1)
    assert read_scenario(write(tmp_path / "tagged.yml", text)).severity == "P2"


def test_a_new_playbook_shows_up_without_code_changes(project: Path) -> None:
    catalog = load_catalog(project)
    assert sorted(catalog.scenarios) == ["scenario", "wipe"]
    write(project / "playbooks" / "rollback.yml", HEADER.format(severity="P0"))
    catalog = load_catalog(project)
    assert sorted(catalog.scenarios) == ["rollback", "scenario", "wipe"]
    assert [item.name for item in catalog.uncatalogued] == ["helper"]


def test_get_names_unknown_and_uncatalogued_scenarios(project: Path) -> None:
    catalog = load_catalog(project)
    with pytest.raises(BadInput, match="unknown scenario 'nope'.*scenario, wipe"):
        catalog.get("nope")
    with pytest.raises(BadInput, match="helper.yml is not a runbook scenario"):
        catalog.get("helper")


def test_list_prints_a_table(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split() == ["SCENARIO", "SEVERITY", "SECTION", "DESTRUCTIVE", "TITLE"]
    lines = {line.split()[0]: line.split() for line in out.splitlines() if not line.startswith(" ")}
    assert lines["scenario"][1:] == ["P1", "T", "no", "Test", "scenario"]
    assert lines["wipe"][1:4] == ["P3", "D", "yes"]
    assert "uncatalogued: playbooks/helper.yml" in out


def test_list_is_sorted_by_severity_then_section(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(project / "playbooks" / "rollback.yml", HEADER.format(severity="P0"))
    write(project / "playbooks" / "outage.yml", HEADER.format(severity="P0").replace("section: 7", "section: 1"))
    write(project / "playbooks" / "disk.yml", HEADER.format(severity="P1").replace("section: 7", "section: 10"))
    write(project / "playbooks" / "checks.yml",
          HEADER.format(severity="P1").replace("section: 7", "section: Quick Diagnostics"))
    assert main(["list"]) == 0
    rows = [line.split()[0] for line in capsys.readouterr().out.splitlines()[1:] if not line.startswith(" ")]
    # P0 by section (1, 7); P1: numbered sections first (10), then named ones by name (Quick Diagnostics, T); P3
    assert rows[:6] == ["outage", "rollback", "disk", "checks", "scenario", "wipe"]
    assert main(["list", "--json"]) == 0
    names = [item["name"] for item in json.loads(capsys.readouterr().out)["scenarios"]]
    assert names == rows[:6]


def test_list_shows_the_accepted_values_of_each_extra_var(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    var_lines = [" ".join(line.split()) for line in out.splitlines() if line.startswith("  -e ")]
    assert var_lines == [
        "-e api_token=API_TOKEN A token the scenario uses",
        "-e fail_step=true|false Fail on purpose; default false",
        "-e sleep_seconds=N Seconds to wait in the middle; default 0",
        "-e payments=off|on Turn payments off or on; default off",
        "-e commit=COMMIT Target commit, a 7-40 hex SHA or HEAD~N; default HEAD~1",
    ]
    # under their scenario, in the header's order
    lines = out.splitlines()
    row = next(index for index, line in enumerate(lines) if line.startswith("scenario "))
    assert lines[row + 1].startswith("  -e api_token=")


@pytest.mark.parametrize("columns", [100, 60])
def test_list_fits_the_console(project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                               columns: int) -> None:
    """On a terminal of 100 (or 60) columns nothing is longer; long descriptions wrap under themselves."""
    long = "Snapshot the app directory first, false when the disk is full or the operator says so " * 2
    write(project / "playbooks" / "rollback.yml",
          HEADER.format(severity="P0").replace("description: Target commit", f"description: {long}"))
    monkeypatch.setenv("TTY_COMPATIBLE", "1")  # rich treats the captured output as a terminal
    monkeypatch.setenv("COLUMNS", str(columns))
    assert main(["list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert max(len(line) for line in lines) <= columns
    words = " ".join(" ".join(lines).split())
    assert " ".join(long.split()) in words  # wrapped, not cut


def test_the_real_catalog_fits_100_columns_off_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    root = Path(__file__).resolve().parents[1]
    catalog = load_catalog(root)
    lines = listing(catalog, 100)
    assert max(len(line) for line in lines) <= 100
    assert [line.split()[0] for line in lines[1:] if not line.startswith(" ")][:1] == ["outage"]


def test_run_without_a_scenario_lists_them_and_exits_2(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run"]) == 2
    captured = capsys.readouterr()
    assert captured.out.splitlines()[0].startswith("SCENARIO")
    assert "scenario " in captured.out and "wipe " in captured.out
    assert captured.err.splitlines() == [
        "runbook: error: name a scenario: runbook run SCENARIO [-i INVENTORY] (scenarios above)"]


def test_list_json(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    by_name = {item["name"]: item for item in data["scenarios"]}
    assert by_name["wipe"]["destructive"] is True
    assert by_name["scenario"]["severity"] == "P1"
    assert by_name["scenario"]["extra_vars"]["payments"]["choices"] == ["off", "on"]
    assert data["uncatalogued"][0]["name"] == "helper"


def test_real_project_playbooks_are_catalogued() -> None:
    """Every playbook shipped in the project has a valid header (skips when none exist yet)."""
    root = Path(__file__).resolve().parents[1]
    if not list((root / "playbooks").glob("*.yml")):
        pytest.skip("no playbooks in the project yet")
    catalog = load_catalog(root)
    assert catalog.scenarios, "no playbook has a runbook_scenario header"
    for item in catalog.uncatalogued:
        assert "no vars.runbook_scenario" in item.reason, f"{item.name}: {item.reason}"
