"""The scenario catalog is read from the playbooks' runbook_scenario header."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runbook.catalog import CatalogError, load_catalog, read_scenario
from runbook.cli import main
from runbook.errors import BadInput


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
    assert "SEVERITY" in out and "DESTRUCTIVE" in out
    lines = {line.split()[0]: line.split() for line in out.splitlines() if line.strip()}
    assert lines["scenario"][1:4] == ["P1", "T", "no"]
    assert lines["wipe"][1:4] == ["P3", "D", "yes"]
    assert "uncatalogued: playbooks/helper.yml" in out


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
