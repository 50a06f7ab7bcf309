# SPDX-License-Identifier: GPL-3.0-or-later
"""triage --fix without a host: the CLI checks the breaker's two settings as the host's module does
(module_utils/runbook_fix_log, whose window is tested in tests/unit/plugins/module_utils), the 60 s freshness
rule, the plan (security only reported), what the breaker's answer and the re-diagnosis make of each host, the
exit code, and the refusal of a destructive fix nobody confirmed, before anything runs."""

from __future__ import annotations

import copy
import json
import time
from pathlib import Path
from typing import Any

import pytest
from ansible_collections.runbook.ops.plugins.module_utils import runbook_fix_log as fix_log

from runbook import cli, triage, triage_fix, triage_rules
from runbook.catalog import load_catalog
from runbook.errors import BadInput, Refused
from runbook.runner import RunRequest
from runbook.validate import check_extra_vars, triage_setting_problem

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data"
CATALOG = load_catalog(ROOT)
RULES = triage_rules.load_rules(ROOT / triage.RULES_FILE, CATALOG.scenarios)
NOW = 1_796_580_000
HOUR = 3600


def diagnosis(name: str) -> dict[str, Any]:
    return json.loads((DATA / f"diagnosis-{name}.json").read_text(encoding="utf-8"))


def entry(minutes_ago: float, scenario: str = "outage") -> dict[str, Any]:
    return {"epoch": int(NOW - minutes_ago * 60), "scenario": scenario}


# the two settings: the CLI (before anything runs) and the host's module refuse the same values --------------


@pytest.mark.parametrize(("value", "seconds"), [("1h", 3600), ("90m", 5400), ("30s", 30), ("7d", 604800)])
def test_window_values(value: str, seconds: int) -> None:
    assert fix_log.window_seconds(value) == seconds
    assert triage_setting_problem("runbook_triage_window", value) == ""


@pytest.mark.parametrize("value", ["1", "3600", "1 h", "0h", "1.5h", "8d", "1w", "", "-1h", "1H"])
def test_bad_window_values_are_refused_by_the_cli_and_by_the_host_alike(value: str) -> None:
    with pytest.raises(ValueError, match="give a whole number and a unit"):
        fix_log.window_seconds(value)
    assert "is not accepted: give a whole number and a unit" in triage_setting_problem("runbook_triage_window", value)


@pytest.mark.parametrize(("value", "good"), [("3", True), ("1", True), ("100", True), ("0", False), ("101", False),
                                             ("three", False), ("-1", False), ("2.5", False)])
def test_max_fixes_values_agree_between_the_cli_and_the_host(value: str, good: bool) -> None:
    assert (triage_setting_problem("runbook_triage_max_fixes", value) == "") is good
    if good:
        assert fix_log.max_fixes(value) == int(value)
    else:
        with pytest.raises(ValueError, match="1 to 100"):
            fix_log.max_fixes(value)


def test_a_bad_value_given_with_e_is_one_line_of_bad_input() -> None:
    with pytest.raises(BadInput, match=r"^-e runbook_triage_window='an hour' is not accepted: give a whole number"):
        check_extra_vars(CATALOG.get("diagnose"), {"runbook_triage_window": "an hour"})


# freshness ---------------------------------------------------------------------------------


def test_a_diagnosis_is_acted_on_up_to_60_s_after_its_run_started() -> None:
    assert triage_fix.is_fresh(100.0, 160.0) and not triage_fix.is_fresh(100.0, 160.5)
    assert triage_fix.age(100.0, 99.0) == 0.0


# plan, breaker, re-diagnosis ---------------------------------------------------------------


def hosts_of(**diagnoses: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return triage.per_host(RULES, diagnoses, list(diagnoses), [], ["inv.yml"])


def full_disk() -> dict[str, Any]:
    found = diagnosis("healthy")
    found["disk"][0]["use_pct"] = 96
    return found


def test_the_plan_is_each_hosts_top_verdict_and_security_is_only_reported() -> None:
    hosts = hosts_of(web1=diagnosis("api-stopped"), web2=diagnosis("healthy"), web3=diagnosis("api-stopped"))
    hosts["web3"]["verdicts"][0] = dict(hosts["web3"]["verdicts"][0], scenario="security")
    planned = triage_fix.plan(hosts)
    assert set(planned) == {"web1", "web3"} and set(triage_fix.to_run(planned)) == {"web1"}
    assert planned["web3"].refused.startswith("security is reported, never run by triage")
    assert triage_fix.groups(planned) == [("outage", {}, ["web1"])]


def test_a_verdict_whose_rules_say_report_only_is_never_run_whatever_its_scenario() -> None:
    hosts = hosts_of(web1=diagnosis("api-stopped"))
    hosts["web1"]["verdicts"][0] = dict(hosts["web1"]["verdicts"][0], report_only=True)
    planned = triage_fix.plan(hosts)
    assert triage_fix.to_run(planned) == {}
    assert planned["web1"].refused.startswith("outage is reported, never run by triage")
    summary = {"verdicts": [{"scenario": "outage", "report_only": True}], "refused": "reported", "escalate": []}
    assert cli._fix_exit_code(0, {"web1": summary}) == 4


def test_a_tripped_breaker_refuses_and_names_the_contacts_and_a_missing_answer_refuses_too() -> None:
    planned = triage_fix.plan(hosts_of(web1=diagnosis("api-stopped"), web2=diagnosis("api-stopped"),
                                       web3=diagnosis("api-stopped")))
    published = {"triage_fix_log": {
        "web1": {"allowed": False, "recent": [entry(50), entry(20), entry(5)], "max_fixes": 3, "window_seconds": HOUR},
        "web2": {"allowed": True, "recent": [], "max_fixes": 3, "window_seconds": HOUR}}}
    contacts = {"hosting": {"name": "Hosting on-call", "contact": "+49 30 1234567"}}
    triage_fix.apply_breaker(planned, published, ["web3: the lock is held by ops@b"], contacts)
    assert planned["web1"].refused == ("circuit breaker: outage was already run 3 times on web1 within 1 h (limit 3), "
                                       "not again: escalate to Hosting on-call: +49 30 1234567")
    assert planned["web2"].refused == "" and planned["web2"].breaker["recent"] == []
    assert planned["web3"].refused.endswith("outage was not run: the lock is held by ops@b")
    assert [host for _, _, group in triage_fix.groups(planned) for host in group] == ["web2"]


def test_the_rediagnosis_says_cleared_or_proposes_the_next_verdict() -> None:
    planned = triage_fix.plan(hosts_of(web1=diagnosis("api-stopped"), web2=diagnosis("api-stopped")))
    after = {"web1": diagnosis("healthy"), "web2": copy.deepcopy(diagnosis("api-stopped"))}
    after["web2"]["disk"][0]["use_pct"] = 96
    rehosts = hosts_of(**after)
    triage_fix.judge(planned, RULES, after, rehosts, ["web1", "web2"], 42.04)
    assert (planned["web1"].cleared, planned["web1"].time_to_recover_s) == (True, 42.04)
    assert planned["web2"].cleared is False and planned["web2"].next is not None
    assert planned["web2"].next["scenario"] == "disk"
    summary = triage_fix.host_summary(hosts_of(web1=diagnosis("api-stopped"))["web1"], planned["web1"], 8.26)
    assert (summary["time_to_detect_s"], summary["time_to_recover_s"]) == (8.3, 42.0)


# a destructive fix nobody confirmed ---------------------------------------------------------


def test_a_destructive_top_verdict_without_yes_and_without_a_terminal_is_refused_before_anything_runs(
        monkeypatch: pytest.MonkeyPatch) -> None:
    def no_run(*_: Any, **__: Any) -> Any:
        raise AssertionError("nothing may run")

    monkeypatch.setattr(cli, "_run", no_run)
    monkeypatch.setattr(cli, "_breaker", no_run)
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    args = cli.build_parser().parse_args(["triage", "--fix", "-i", "inv.yml"])
    hosts = hosts_of(web1=full_disk())
    assert hosts["web1"]["verdicts"][0]["scenario"] == "disk" and CATALOG.get("disk").destructive
    diagnosed = cli._Diagnosed(ran=None, hosts=hosts, began=time.monotonic(), ended=time.monotonic(),  # type: ignore[arg-type]
                               diagnoses={})
    request = RunRequest(scenario=CATALOG.get("diagnose"), project=ROOT)
    with pytest.raises(Refused, match="^disk is destructive .*no terminal to confirm, re-run with --yes$"):
        cli._triage_fix(args, request, CATALOG, RULES, Path("/nonexistent"), cli.Redactor(), [], time.monotonic(),
                        diagnosed, {})


def test_yes_without_fix_is_bad_input(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["triage", "--yes", "-i", "inv.yml"]) == 2
    assert capsys.readouterr().err == "runbook: error: --yes goes with --fix (triage alone changes nothing)\n"


def test_the_exit_code_of_a_fix_refused_first_then_unreachable_then_failed() -> None:
    def host(**fields: Any) -> dict[str, Any]:
        return {"verdicts": [{"scenario": fields.pop("scenario", "outage")}], "fix": None, "cleared": None,
                "refused": None, "escalate": [], **fields}

    cleared = host(fix={"exit_code": 0}, cleared=True)
    assert cli._fix_exit_code(0, {"a": cleared, "b": {"verdicts": []}}) == 0
    assert cli._fix_exit_code(0, {"a": cleared, "b": host(fix={"exit_code": 0}, cleared=False)}) == 1
    assert cli._fix_exit_code(0, {"a": host(refused="the fix log on the host was not written")}) == 1
    assert cli._fix_exit_code(3, {"a": host(fix={"exit_code": 1}, cleared=False)}) == 3
    assert cli._fix_exit_code(0, {"a": cleared, "b": host(scenario="security", refused="reported")}) == 4
    assert cli._fix_exit_code(3, {"a": host(refused="circuit breaker: ...", escalate=[{"name": "x"}])}) == 4
