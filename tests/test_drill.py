# SPDX-License-Identifier: GPL-3.0-or-later
"""Drills: the drills file (playbooks/drill/drills.yml) read and checked (runbook.drill_spec), the
staging mark read from a real `ansible-inventory --list` (runbook.drill.staging_hosts), the snapshot
comparison, and the report and chart written from measured results (runbook.drill_report).
The drill on a real host: tests/integration/test_drill_on_a_host.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from runbook import drill_report
from runbook.catalog import load_catalog
from runbook.drill import compare, is_staging, staging_hosts
from runbook.drill_report import DrillResult
from runbook.drill_spec import DRILLS_FILE, INJECTIONS, load_drills, pick
from runbook.errors import BadInput

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = load_catalog(ROOT).scenarios
DRILLS = load_drills(ROOT / DRILLS_FILE, SCENARIOS)


# the shipped drills ------------------------------------------------------------


def test_the_shipped_drills_cover_the_guide_failures_each_with_an_injection_of_the_playbook() -> None:
    assert [drill.name for drill in DRILLS] == ["api-stopped", "engine-stopped", "api-hung", "database-pool",
                                                "disk-full", "certificate-expired", "cpu-hog", "broken-release"]
    assert {drill.expected for drill in DRILLS} == {"outage", "database", "disk", "certificate", "resources",
                                                    "rollback"}
    tasks = ROOT / "playbooks" / "drill" / "tasks"
    for injection in INJECTIONS:  # each injection the loader accepts has both halves in Ansible
        assert (tasks / f"inject-{injection}.yml").is_file() and (tasks / f"undo-{injection}.yml").is_file()
    playbook = yaml.safe_load((ROOT / "playbooks" / "internal" / "drill.yml").read_text())
    assert playbook[0]["vars"]["drill_injections"] == list(INJECTIONS)


def test_a_steady_state_holds_only_when_every_test_passes() -> None:
    (disk,) = [drill for drill in DRILLS if drill.name == "disk-full"]
    assert disk.steady({"health": 200, "disk_max_pct": 28}) == []
    assert disk.steady({"health": 0, "disk_max_pct": 94}) == ["health is 0, wanted equals 200",
                                                             "disk_max_pct is 94, wanted below 90"]
    (certificate,) = [drill for drill in DRILLS if drill.name == "certificate-expired"]
    # no lineage (None) never passes a number test
    assert certificate.steady({"health": 200, "certificate_days_left": None}) == [
        "certificate_days_left is None, wanted at least 7"]


def test_pick_one_all_or_an_unknown_name_with_the_known_ones() -> None:
    assert [drill.name for drill in pick(DRILLS, "api-hung", False)] == ["api-hung"]
    assert pick(DRILLS, None, True) == DRILLS
    with pytest.raises(BadInput, match=r"^unknown drill 'api-stoped'; known drills: api-stopped, engine-stopped"):
        pick(DRILLS, "api-stoped", False)
    for name, every in ((None, False), ("api-hung", True)):
        with pytest.raises(BadInput, match="give one drill NAME or --all"):
            pick(DRILLS, name, every)


GOOD = {"name": "x", "failure": "f", "injection": "api_stopped", "expected": "outage",
        "steady_state": {"health": {"equals": 200}}}


@pytest.mark.parametrize("change, message", [
    ({"injection": "rm_rf"}, "drill x: unknown injection 'rm_rf' (known: api_stopped"),
    ({"expected": "reboot"}, "drill x: expected 'reboot' is not a scenario"),
    ({"steady_state": {"load": {"below": 2}}}, "drill x: steady_state reads unknown field 'load'"),
    ({"steady_state": {"health": {"about": 200}}}, "drill x: steady_state health: unknown test 'about'"),
    ({"steady_state": {"health": {"below": "ok"}}}, "drill x: steady_state health: below wants a number"),
    ({"steady_state": {}}, "drill x: steady_state wants a mapping"),
    ({"recover_within": 0}, "drill x: recover_within wants a positive number"),
    ({"name": "Api Stopped"}, "drill Api Stopped: name wants lowercase"),
    ({"undo": "x"}, "drill x: unknown key 'undo'"),
    ({"failure": ""}, "drill x: failure wants a non-empty text"),
])
def test_a_bad_drill_is_one_line_naming_the_file_the_drill_and_the_fault(tmp_path: Path, change: dict,
                                                                          message: str) -> None:
    path = tmp_path / "drills.yml"
    path.write_text(yaml.safe_dump({"drills": [{**GOOD, **change}]}))
    with pytest.raises(BadInput) as caught:
        load_drills(path, SCENARIOS)
    assert str(caught.value).startswith(f"{path}: {message}")
    assert "\n" not in str(caught.value)


def test_a_missing_key_a_twice_used_name_and_no_drills_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "drills.yml"
    cases = [({"drills": [{k: v for k, v in GOOD.items() if k != "expected"}]}, "drill x: missing expected"),
             ({"drills": [GOOD, GOOD]}, "drill x: the name is used twice"),
             ({"drills": []}, "wants a mapping with a non-empty list `drills`")]
    for data, message in cases:
        path.write_text(yaml.safe_dump(data))
        with pytest.raises(BadInput, match=message):
            load_drills(path, SCENARIOS)


# the staging mark, from a real inventory -----------------------------------------


def test_staging_hosts_reads_the_mark_from_the_inventory_and_refuses_any_unmarked_host(tmp_path: Path) -> None:
    inventory = tmp_path / "inventory.yml"
    inventory.write_text(yaml.safe_dump({
        "all": {"children": {"app_servers": {
            "hosts": {"stage1": {"runbook_staging": True}, "prod1": {}},
            "children": {"extra": {"hosts": {"stage2": None}, "vars": {"runbook_staging": "yes"}}}}}}}))
    assert staging_hosts(ROOT, [str(inventory)], "stage*") == ["stage1", "stage2"]
    with pytest.raises(BadInput) as caught:
        staging_hosts(ROOT, [str(inventory)], None)
    assert str(caught.value).startswith("refused: not marked runbook_staging: true in the inventory: prod1 ")
    with pytest.raises(BadInput, match="no host of the group app_servers matches the inventory and --limit zz"):
        staging_hosts(ROOT, [str(inventory)], "zz")
    assert not is_staging({"runbook_staging": "false"}) and not is_staging({})


def test_the_command_refuses_an_unmarked_host_and_an_unknown_drill_with_exit_2(tmp_path: Path) -> None:
    inventory = tmp_path / "inventory.yml"
    inventory.write_text(yaml.safe_dump({"app_servers": {"hosts": {"prod1": {"ansible_host": "127.0.0.9"}}}}))
    for words, line in ((["api-stopped"], "runbook: error: refused: not marked runbook_staging: true in the "
                                          "inventory: prod1"),
                        (["nope"], "runbook: error: unknown drill 'nope'; known drills: api-stopped")):
        done = subprocess.run([sys.executable, "-m", "runbook", "drill", *words, "-i", str(inventory)],
                              capture_output=True, text=True, timeout=120,
                              env={**os.environ, "RUNBOOK_RUNS_DIR": str(tmp_path / "runs")})
        assert done.returncode == 2, done.stderr
        assert done.stderr.startswith(line) and done.stderr.count("\n") == 1
        assert not (tmp_path / "runs").exists()  # nothing written, nothing run


# comparing snapshots ---------------------------------------------------------------


SNAPSHOT = {"health": 200, "release": "209083e", "ledger_last": "", "ufw": "Status: inactive", "certificate": "ab",
            "services": {"docker": "active"}, "disk_pct": {"/": 28, "/run": 1}}


def test_compare_names_each_difference_and_allows_disk_use_to_move_a_little() -> None:
    assert compare(SNAPSHOT, {**SNAPSHOT, "disk_pct": {"/": 30, "/run": 1}}) == []
    after = {**SNAPSHOT, "release": "aaaaaaa", "certificate": "cd", "disk_pct": {"/": 40, "/srv/x": 93}}
    assert compare(SNAPSHOT, after) == ["release: 209083e before, aaaaaaa after", "certificate: ab before, cd after",
                                        "mount /: 28% used before, 40% after",
                                        "mount /run: there before, not there after",
                                        "mount /srv/x: not there before, there after"]
    assert compare(SNAPSHOT, {}) == ["the host could not be read after the undo"]


def test_the_ledger_may_gain_entries_only_when_its_last_names_the_release_that_ran_before_and_runs() -> None:
    # a drill that deployed and rolled back: the ledger's last is the release that ran before
    assert compare(SNAPSHOT, {**SNAPSHOT, "ledger_last": "209083e"}) == []
    assert compare(SNAPSHOT, {**SNAPSHOT, "ledger_last": "bbbbbbb"}) == ["ledger_last:  before, bbbbbbb after"]
    assert compare(SNAPSHOT, {**SNAPSHOT, "ledger_last": "bbbbbbb", "release": "bbbbbbb"}) == [
        "release: 209083e before, bbbbbbb after", "ledger_last:  before, bbbbbbb after"]


# the report and chart, from measured results ----------------------------------------


def results() -> list[DrillResult]:
    ok = DrillResult("api-stopped", "stage1", "The api stopped", "outage", "outage", 9.1, 27.8, 42.9, True)
    slow = DrillResult("disk-full", "stage1", "Disk full", "disk", "outage", 130.0, 30.0, None, False,
                       ["mount /srv: not there before, there after"], ["the steady state did not hold again"])
    return [ok, slow]


def test_a_drill_passes_only_with_the_expected_verdict_within_the_targets_and_the_host_as_found() -> None:
    ok, slow = results()
    assert ok.passed and ok.failures() == []
    assert slow.failures() == ["the steady state did not hold again", "triage proposed outage, expected disk",
                               "time-to-detect 130.0s over the 120s target", "time-to-recover - over the 900s target",
                               "the host was not left as found: mount /srv: not there before, there after"]
    assert not DrillResult("x", "h", "f", "outage", "outage", 1.0, 1.0, 2.0, False).passed


def test_the_report_has_a_row_per_drill_a_table_per_failure_and_the_chart(tmp_path: Path) -> None:
    report = drill_report.write(tmp_path / "drill", results(), "2026-12-06T18:30:00Z")
    text = report.read_text()
    assert "1 of 2 drills passed." in text
    assert "| api-stopped | stage1 | outage | outage | 9.1s | 27.8s | 42.9s | pass | y |" in text
    assert "| disk-full | stage1 | disk | outage | 130.0s | 30.0s | - | FAIL | n |" in text
    assert "## disk-full on stage1: FAIL" in text and "| time-to-detect (assess) | 130.0s | <= 120s | n |" in text
    assert "- triage proposed outage, expected disk" in text and "![detect and recover times](chart.svg)" in text
    svg = ET.fromstring((tmp_path / "drill" / "chart.svg").read_text())
    ns = "{http://www.w3.org/2000/svg}"
    bars = [float(rect.get("width")) for rect in svg.iter(f"{ns}rect")]
    assert len(bars) == 4 and bars[3] == 0  # detect and recover per drill; a recovery that never came: no bar
    assert bars[0] < bars[1] < bars[2]  # 9.1 s < 42.9 s < 130 s on one scale
    labels = [text.text for text in svg.iter(f"{ns}text")]
    assert "disk-full (FAIL)" in labels and "assess 120s" in labels and "42.9s" in labels
    json.dumps([result.to_dict() for result in results()])  # drill.json's shape serialises


# the undo always runs ----------------------------------------------------------------


class StandInHost:
    """A host whose read, inject and undo are recorded (drill_host.Host's surface); inject may raise."""

    def __init__(self, inject_raises: BaseException | None = None, inject_exit: int = 0) -> None:
        self.name, self.calls = "stage1", []  # type: ignore[var-annotated]
        self.inject_raises, self.inject_exit = inject_raises, inject_exit

    def read(self) -> dict:
        self.calls.append("read")
        return {"probe": {"health": 200}, "snapshot": dict(SNAPSHOT)}

    def inject(self, injection: str) -> object:
        from runbook.drill_host import Call
        self.calls.append(f"inject {injection}")
        if self.inject_raises is not None:
            raise self.inject_raises
        return Call(self.inject_exit, "", "fatal: the injection broke", 1.0)

    def undo(self, injection: str) -> object:
        from runbook.drill_host import Call
        self.calls.append(f"undo {injection}")
        return Call(0, "", "", 1.0)


def test_the_undo_runs_after_an_interrupt_and_after_a_failed_injection_and_the_result_says_failed() -> None:
    from runbook.drill import Drilling
    (api,) = pick(DRILLS, "api-stopped", False)
    said: list[str] = []
    drilling = Drilling(ROOT, [], said.append)
    host = StandInHost(KeyboardInterrupt())
    result = DrillResult(api.name, host.name, api.failure, api.expected)
    with pytest.raises(KeyboardInterrupt):
        drilling.one(api, host, result)  # type: ignore[arg-type]
    assert host.calls == ["read", "inject api_stopped", "undo api_stopped", "read"]
    host = StandInHost(inject_exit=2)
    result = DrillResult(api.name, host.name, api.failure, api.expected)
    drilling.one(api, host, result)  # type: ignore[arg-type]
    assert host.calls == ["read", "inject api_stopped", "undo api_stopped", "read"]
    assert not result.passed and result.left_as_found
    assert result.failures()[0] == "the injection failed: fatal: the injection broke"


# the broken-release drill: deploy, wait until broken, undo by rollback -----------------


class ReleaseHost(StandInHost):
    """A host whose playbook runs are recorded: drill.yml's inject writes what it keeps, the deploy
    exits deploy_exit (or raises), and the release answers 200 for `healthy_reads` reads."""

    def __init__(self, deploy: int | BaseException = 0, healthy_reads: int = 1, ref: str = "drill/late-failure") -> None:
        super().__init__()
        self.project, self.deploy, self.healthy_reads, self.ref = ROOT, deploy, healthy_reads, ref

    def read(self) -> dict:
        self.calls.append("read")
        self.healthy_reads -= 1
        return {"probe": {"health": 200 if self.healthy_reads >= 0 else 500}, "snapshot": dict(SNAPSHOT)}

    def playbook(self, playbook: Path, timeout: float, **extra: str) -> object:
        from runbook.drill_host import Call
        self.calls.append(f"{playbook.name} {' '.join(f'{k}={v}' for k, v in sorted(extra.items()) if k != 'drill_out')}")
        if extra.get("drill_action") == "inject":
            Path(extra["drill_out"]).write_text(json.dumps({"ref": self.ref, "before": "209083e"}))
        if playbook.name == "deploy.yml" and isinstance(self.deploy, BaseException):
            raise self.deploy
        exit_code = self.deploy if playbook.name == "deploy.yml" else 0
        return Call(exit_code, "", "fatal: [stage1]: FAILED! => {\"msg\": \"gate failed\"}" if exit_code else "", 1.0)


def test_the_broken_release_is_deployed_by_deploy_yml_and_waited_for_and_undone_by_rolling_back_to_the_kept_release(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from runbook import drill_release
    monkeypatch.setattr(drill_release, "POLL_S", 0)
    host, kept = ReleaseHost(healthy_reads=2), {}
    assert drill_release.inject(host, kept).exit_code == 0  # type: ignore[arg-type]
    assert host.calls == ["drill.yml drill_action=inject drill_injection=broken_release",
                          "deploy.yml ref=drill/late-failure", "read", "read", "read"]  # 200, 200, then 500
    assert kept == {"release": "209083e"}
    host.calls.clear()
    assert drill_release.undo(host, kept).exit_code == 0  # type: ignore[arg-type]
    assert host.calls == ["rollback.yml commit=209083e", "drill.yml drill_action=undo drill_injection=broken_release"]


def test_a_deploy_that_fails_its_gate_is_a_failed_injection_and_an_interrupted_one_is_still_rolled_back() -> None:
    from runbook import drill_release
    from runbook.drill import Drilling
    host, kept = ReleaseHost(deploy=2), {}
    failed = drill_release.inject(host, kept)  # type: ignore[arg-type]
    assert failed.exit_code == 2 and "runbook_drill_broken_ref must name a release that answers healthy" in failed.reason
    (broken,) = pick(DRILLS, "broken-release", False)
    host = ReleaseHost(deploy=KeyboardInterrupt())
    result = DrillResult(broken.name, host.name, broken.failure, broken.expected)
    with pytest.raises(KeyboardInterrupt):
        Drilling(ROOT, [], [].append).one(broken, host, result)  # type: ignore[arg-type]
    assert host.calls[-3:] == ["rollback.yml commit=209083e", "drill.yml drill_action=undo drill_injection=broken_release",
                               "read"]
    assert drill_release.undo(ReleaseHost(), {}).exit_code == 0  # type: ignore[arg-type]  # inject never got that far


def test_a_ref_deploy_yml_would_refuse_is_refused_before_anything_is_deployed_or_rolled_back() -> None:
    from runbook import drill_release
    host, kept = ReleaseHost(ref="drill/..late"), {}
    refused = drill_release.inject(host, kept)  # type: ignore[arg-type]
    assert refused.exit_code != 0 and refused.reason.startswith("runbook_drill_broken_ref: ")
    assert "drill/..late" in refused.reason
    assert host.calls == ["drill.yml drill_action=inject drill_injection=broken_release"] and kept == {}
