# SPDX-License-Identifier: GPL-3.0-or-later
"""Triage: the rules file (playbooks/triage/rules.yml) read and checked (runbook.triage_rules), and what it proposes for real
diagnoses of a test host (tests/data/diagnosis-*.json, as the diagnose role published them; see
tests/data/README.md). A state the test bed cannot produce cheaply (a full disk: the diagnosis leaves tmpfs out
and there is no loop device; a certificate with days left; a process that keeps a core busy on a shared
machine) is one real diagnosis with that one field changed."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from runbook import triage, triage_rules
from runbook.catalog import load_catalog
from runbook.errors import BadInput

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data"
SCENARIOS = load_catalog(ROOT).scenarios
RULES = triage_rules.load_rules(ROOT / triage.RULES_FILE, SCENARIOS)


def diagnosis(name: str) -> dict[str, Any]:
    return json.loads((DATA / f"diagnosis-{name}.json").read_text(encoding="utf-8"))


def of(found: dict[str, Any], scenario: str) -> list[triage.Verdict]:
    """The verdicts for one scenario. The recorded hosts of the signs (resources, payments, security) ran on a
    shared 2-core machine whose other work kept host-wide CPU and load over their limits, so they carry a
    resources verdict (cpu-over) too."""
    return [verdict for verdict in triage.triage(RULES, found) if verdict.scenario == scenario]


def proposed(found: dict[str, Any]) -> list[tuple[str, str, list[str]]]:
    """(severity, scenario, rules) of each verdict, in rank order."""
    return [(verdict.severity, verdict.scenario, verdict.rules) for verdict in triage.triage(RULES, found)]


# the shipped rules on real diagnoses ---------------------------------------


def test_a_healthy_host_has_nothing_to_do() -> None:
    assert triage.triage(RULES, diagnosis("healthy")) == []


def test_an_engine_that_is_down_explains_the_rest_so_only_outage_is_proposed() -> None:
    found = diagnosis("engine-stopped")
    (verdict,) = triage.triage(RULES, found)
    assert (verdict.severity, verdict.scenario, verdict.rules) == ("P0", "outage", ["engine-down"])
    assert verdict.evidence == ["Docker engine (systemd unit docker): inactive"]
    # the api's health check fails too: quoted as explained by the engine, not as a verdict of its own
    assert len(verdict.explained) == 1 and verdict.explained[0].startswith(
        "API health: no answer from GET http://localhost:3000/health: 127.0.0.1:3000 connection refused")


def test_an_engine_down_and_a_full_disk_give_outage_first_then_disk() -> None:
    found = diagnosis("engine-stopped")
    found["disk"][0]["use_pct"] = 96
    assert proposed(found) == [("P0", "outage", ["engine-down"]), ("P1", "disk", ["disk-full"])]


def test_a_stopped_api_is_an_outage_with_the_container_and_the_health_check_as_evidence() -> None:
    (verdict,) = triage.triage(RULES, diagnosis("api-stopped"))
    assert (verdict.severity, verdict.scenario, verdict.rules) == ("P0", "outage", ["container-down", "api-unhealthy"])
    assert verdict.evidence[0] == "container backend-api-1: exited (restarts: 0)"
    assert verdict.evidence[1].startswith("API health: no answer from GET http://localhost:3000/health: ")
    assert verdict.command("web-1", ["/inv/prod.yml"]) == "runbook run outage -i /inv/prod.yml --limit web-1"


def test_a_restarting_api_is_an_outage() -> None:
    found = diagnosis("healthy")
    found["containers"][0].update(state="restarting", restarts=7)
    (verdict,) = triage.triage(RULES, found)
    assert verdict.scenario == "outage" and verdict.evidence == ["container backend-api-1: restarting (restarts: 7)"]


def test_nginx_down_is_an_outage() -> None:
    (verdict,) = triage.triage(RULES, diagnosis("nginx-stopped"))
    assert (verdict.severity, verdict.scenario, verdict.evidence) == (
        "P0", "outage", ["nginx (systemd unit nginx): inactive"])


def test_health_200_but_the_database_failing_is_database_p1() -> None:
    (verdict,) = triage.triage(RULES, diagnosis("db-stopped"))
    assert (verdict.severity, verdict.scenario, verdict.rules) == ("P1", "database", ["database-failing"])
    assert verdict.evidence == ["API health 200, but database health 503 from GET http://localhost:3000/api/health/db"]


def test_payment_errors_in_the_window_are_payments_p0_since_the_window_quoted_redacted() -> None:
    (verdict,) = of(diagnosis("payments-recent"), "payments")
    assert (verdict.severity, verdict.rules, verdict.vars) == ("P0", ["payment-errors"], {"since": "30m"})
    # the app's own "stripe webhook received" line is no error: only the two error lines are quoted
    assert verdict.evidence == [
        "api log (2 payment errors in 30 min): 2026-12-06T18:33:07Z ERROR stripe charge failed: card_declined "
        "(key sk_live_********)",
        "api log (2 payment errors in 30 min): 2026-12-06T18:33:07Z payment intent pi_3 failed: Stripe API timeout "
        "after 30s"]
    assert verdict.command("web-1", ["prod.yml"]) == "runbook run payments -i prod.yml --limit web-1 -e since=30m"
    # the same lines once the (1-minute) window has passed, and a host whose api logged none
    assert of(diagnosis("windows-passed"), "payments") == of(diagnosis("signs-healthy"), "payments") == []


def test_an_api_failing_right_after_a_recorded_deploy_is_a_rollback_to_last_good() -> None:
    found = diagnosis("unhealthy-after-deploy")
    (verdict,) = triage.triage(RULES, found)
    assert (verdict.severity, verdict.scenario, verdict.vars) == ("P0", "rollback", {"commit": "last-good"})
    assert verdict.evidence == ["API health 500 from GET http://localhost:3000/health, 23s after the deploy of "
                                "8d6ce1a0a54fc9973b9cb61d83a705dab0611d39 was recorded healthy"]
    assert verdict.explained == ["API health: 500 from GET http://localhost:3000/health"]
    assert verdict.command("web-1", ["a.yml", "b.yml"], ["--user", "ops"]) == (
        "runbook run rollback -i a.yml -i b.yml --limit web-1 -e commit=last-good --user ops")
    # an hour after the deploy, the same failure is an outage
    found["guide"]["last_release"]["age"] = 3600
    assert proposed(found) == [("P0", "outage", ["api-unhealthy"])]


@pytest.mark.parametrize(("name", "rules", "evidence"), [
    ("certificate-expired", ["certificate-file-expiring", "certificate-served-expiring"],
     ["certificate /etc/letsencrypt/live/api.echoelmusic.com/cert.pem: -61 days left (until 2026-10-07T16:10:07Z)",
      "certificate served on 127.0.0.1:443: -61 days left (until 2026-10-07T16:10:07Z)"]),
    ("certificate-not-loaded", ["certificate-not-loaded"],
     ["served certificate (serial 4ED91537BE094D93) is not the lineage's (serial 6FA7D27F6241BD17)"]),
])
def test_a_certificate_expired_or_not_loaded_is_certificate_p1(name: str, rules: list[str],
                                                               evidence: list[str]) -> None:
    (verdict,) = triage.triage(RULES, diagnosis(name))
    assert (verdict.severity, verdict.scenario, verdict.rules, verdict.evidence) == ("P1", "certificate", rules,
                                                                                     evidence)


@pytest.mark.parametrize(("days", "expected"), [(7, []), (6, [("P1", "certificate", ["certificate-file-expiring"])])])
def test_a_certificate_with_less_than_7_days_left_is_certificate_p1(days: int, expected: list[Any]) -> None:
    found = diagnosis("certificate-valid")
    assert proposed(found) == []
    found["guide"]["certificate"]["file"]["days_left"] = days
    assert proposed(found) == expected


@pytest.mark.parametrize(("use", "expected"), [(89, []), (90, [("P1", "disk", ["disk-full"])])])
def test_a_mount_at_90_percent_is_disk_p1(use: int, expected: list[Any]) -> None:
    found = diagnosis("healthy")
    found["disk"][0]["use_pct"] = use
    assert proposed(found) == expected
    if expected:
        assert triage.triage(RULES, found)[0].evidence == ["disk /: 90% used, 75G free"]


@pytest.mark.parametrize(("key", "rule"), [("top_cpu", "cpu-hog"), ("top_mem", "memory-hog")])
def test_a_process_over_80_percent_is_resources_p1(key: str, rule: str) -> None:
    found = diagnosis("healthy")
    assert proposed(found) == []
    found[key][0].update(cpu=97.5, mem=85.0)
    (verdict,) = triage.triage(RULES, found)
    assert (verdict.severity, verdict.scenario, verdict.rules) == ("P1", "resources", [rule])
    assert verdict.evidence[0].startswith("process 106 ")


def test_a_burst_of_failed_ssh_logins_is_security_p0_reported_and_never_run() -> None:
    (verdict,) = of(diagnosis("logins-burst"), "security")
    assert (verdict.severity, verdict.rules, verdict.report_only) == ("P0", ["failed-login-burst"], True)
    assert verdict.evidence == ["13 failed SSH logins in 10 min (limit 10), from 127.0.0.1 (13)"]
    found = verdict.to_dict("web-1", ["prod.yml"])
    assert found["report_only"] is True
    lines = triage.host_lines("web-1", {"diagnosed": True, "verdicts": [found]}, {"security": "Data breach"})
    assert lines[-1] == "     triage never runs this; a person decides: runbook run security -i prod.yml --limit web-1"
    # four failed logins are no burst
    assert diagnosis("logins-few")["guide"]["failed_logins"]["count"] == 4
    assert of(diagnosis("logins-few"), "security") == []


def test_oom_kills_and_an_oom_killed_container_are_resources_p1_naming_the_compose_service() -> None:
    (verdict,) = of(diagnosis("oom-killed"), "resources")
    assert verdict.severity == "P1" and {"oom-kills", "container-oom-killed"} <= set(verdict.rules)
    assert "2 OOM kills in the last 60 min (the kernel log (dmesg))" in verdict.evidence
    assert ("container backend-worker-1 (compose service worker) was ended by the OOM killer, now running"
            in verdict.evidence)
    # the kills are older than a 1-minute window, and the worker was recreated since
    (calm,) = of(diagnosis("windows-passed"), "resources")
    assert calm.rules == ["cpu-over"]


def test_an_env_file_changed_after_the_last_release_is_security_p0_reported_and_never_run() -> None:
    (verdict,) = of(diagnosis("env-changed"), "security")
    # the failed logins of the captures before were still within their 10 minutes: one verdict, both causes
    assert (verdict.severity, verdict.rules, verdict.report_only) == ("P0", ["env-changed", "failed-login-burst"], True)
    assert verdict.evidence[0] == ("/root/echoelmusic/backend/.env changed at 2026-12-06T18:38:52Z, after the last "
                                   "recorded release (fe8b11c8536cca0e7cae4a6221d872cdb6265ab3 at 2026-12-06T18:37:42Z)")
    # the same .env before the deploy recorded v3; and a host with no ledger cannot tell
    assert [verdict.rules for verdict in of(diagnosis("env-unchanged"), "security")] == [["failed-login-burst"]]
    assert diagnosis("signs-healthy")["guide"]["env_file"]["changed_after_release"] is None
    assert of(diagnosis("signs-healthy"), "security") == []


def test_memory_over_its_limit_is_resources_p1() -> None:
    """A 3 GB process on a 24 GB machine, against a limit lowered to 20 % (diagnose_memory_pct_max: the machine is
    shared)."""
    (verdict,) = of(diagnosis("memory-hog"), "resources")
    assert verdict.rules[0] == "memory-over" and verdict.evidence[0] == "memory 20.4% in use host-wide (limit 20.0%)"
    (calm,) = of(diagnosis("memory-calm"), "resources")
    assert "memory-over" not in calm.rules


def test_cpu_busy_and_load_over_their_limits_is_resources_p1() -> None:
    (verdict,) = of(diagnosis("cpu-hog"), "resources")
    assert verdict.rules[0] == "cpu-over"  # then oom-kills: the kills of the capture before, within 60 minutes
    assert verdict.evidence[0] == "CPU 100.0% busy host-wide (limit 90.0%), load 13.99 on 2 CPUs (limit 100.0% per CPU)"
    # the same machine with the load's limit raised above it (diagnose_load_pct_max=1000)
    assert [verdict.rules for verdict in of(diagnosis("unhealthy-after-deploy-named"), "resources")] == [["oom-kills"]]


def test_the_ledger_names_the_scenario_and_the_rollback_rule_reads_it_and_the_old_title() -> None:
    found = diagnosis("unhealthy-after-deploy-named")
    assert found["guide"]["last_release"]["scenario"] == "deploy"
    (verdict,) = of(found, "rollback")
    assert (verdict.severity, verdict.vars, verdict.rules) == ("P0", {"commit": "last-good"}, ["unhealthy-after-deploy"])
    assert [verdict.scenario for verdict in triage.triage(RULES, found)] == ["rollback", "security", "resources"]
    assert verdict.evidence == ["API health 500 from GET http://localhost:3000/health, 137s after the deploy of "
                                "fe8b11c8536cca0e7cae4a6221d872cdb6265ab3 was recorded healthy"]
    # a rollback's release is no deploy
    found["guide"]["last_release"]["scenario"] = "rollback"
    assert [verdict.scenario for verdict in triage.triage(RULES, found)] == ["outage", "security", "resources"]


def test_the_containers_name_their_compose_service() -> None:
    assert [(row["name"], row["service"]) for row in diagnosis("signs-healthy")["containers"]] == [
        ("backend-api-1", "api"), ("backend-worker-1", "worker")]


def test_two_causes_of_one_scenario_give_one_verdict_with_both_evidence_lines() -> None:
    found = diagnosis("api-stopped")
    found["services"][1]["state"] = "failed"
    (verdict,) = triage.triage(RULES, found)
    assert verdict.rules == ["container-down", "api-unhealthy", "nginx-down"]
    assert verdict.evidence[-1] == "nginx (systemd unit nginx): failed"


def test_every_rule_is_matched_by_a_test_above() -> None:
    """A rule nobody tests could read a field the diagnosis does not publish (this file names each rule)."""
    text = Path(__file__).read_text(encoding="utf-8")
    assert [rule.id for rule in RULES if f'"{rule.id}"' not in text] == []


# the condition language -----------------------------------------------------


@pytest.mark.parametrize(("test", "value", "wanted", "holds"), [
    ("equals", 200, 200, True), ("equals", True, 1, False), ("not_equals", None, 200, True),
    ("not_equals", triage_rules.MISSING, 200, False), ("in", "exited", ["exited", "dead"], True),
    ("not_in", "running", ["running"], False), ("at_least", 90, 90, True), ("at_least", "90", 90, False),
    ("below", -2, 7, True), ("below", None, 7, False), ("contains_any", "ERROR Stripe", ["stripe"], True),
    ("contains_any", "ERROR db", ["stripe"], False), ("present", None, True, False),
    ("present", triage_rules.MISSING, False, True), ("present", 0, True, True),
])
def test_each_test_of_the_condition_language(test: str, value: Any, wanted: Any, holds: bool) -> None:
    assert triage_rules.passes(test, value, wanted) is holds


def test_a_path_picks_a_row_by_a_field_and_a_missing_field_is_missing() -> None:
    found = diagnosis("nginx-stopped")
    assert triage_rules.resolve(found, triage_rules.parse_path("services[name=nginx].state")) == "inactive"
    assert triage_rules.resolve(found, triage_rules.parse_path("services[name=postgres].state")) is triage_rules.MISSING
    assert triage_rules.resolve(found, triage_rules.parse_path("guide.nothing.here")) is triage_rules.MISSING
    assert triage_rules.resolve("a line", triage_rules.parse_path(".")) == "a line"


# a bad rules file -------------------------------------------------------------

GOOD = {"id": "x", "symptom": "s", "reads": {"v": "guide.health.status"}, "when": {"v": {"equals": 200}},
        "scenario": "outage", "severity": "P0", "evidence": "health {v}"}


def bad(**change: Any) -> dict[str, Any]:
    rule = copy.deepcopy(GOOD)
    rule.update(change)
    return {"rules": [{key: value for key, value in rule.items() if value is not None}]}


@pytest.mark.parametrize(("data", "message"), [
    ([], "expected a mapping with a non-empty list `rules`"),
    ({"rules": []}, "expected a mapping with a non-empty list `rules`"),
    (bad(scenario="reboot"), "rule x: scenario reboot is not a scenario (scenarios: certificate,"),
    (bad(severity="P5"), "rule x: severity must be one of P0, P1, P2, P3"),
    (bad(evidence=None), "rule x: evidence is missing"),
    (bad(colour="red"), "rule x: unknown key colour"),
    (bad(when={"v": {"matches": ".*"}}), "rule x: v: unknown test matches (tests: equals,"),
    (bad(when={"w": {"equals": 1}}), "rule x: the condition tests w, which is not one of its reads"),
    (bad(when={"v": {"at_least": "90"}}), "rule x: v: at_least needs a number"),
    (bad(when={"all": []}), "rule x: all: must be a non-empty list of conditions"),
    (bad(evidence="health {status}"), "rule x: evidence quotes {status}, which is not one of its reads"),
    (bad(reads={"v": "guide..status"}), "rule x: 'guide..status' is not a path"),
    (bad(vars={"commit": "{{ lookup('pipe', 'id') }}"}), "rule x: vars: commit must be a plain string"),
    (bad(explains=["nobody"]), "rule x: explains nobody, which is not a rule"),
    (bad(explains=["x"]), "rule x: explains itself (through explains)"),
    ({"rules": [GOOD, GOOD]}, "rule x: the id is used twice"),
])
def test_a_bad_rule_is_refused_saying_which_rule_and_what(data: Any, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        triage_rules.parse_rules(data, SCENARIOS)
    assert str(caught.value).startswith(message), str(caught.value)


def test_a_read_from_the_whole_diagnosis_and_vars_filled_from_reads() -> None:
    rule = triage_rules.parse_rules({"rules": [dict(
        GOOD, for_each="containers", reads={"name": "name", "status": "$.guide.health.status"},
        when={"name": {"present": True}}, vars={"stop": "{name}", "note": "{status}"},
        evidence="{name} while health {status}")]}, SCENARIOS)[0]
    found = {"containers": [{"name": "worker"}, {"name": "api"}], "guide": {"health": {"status": 200}}}
    assert rule.evidence_lines(found) == ["worker while health 200", "api while health 200"]
    assert rule.verdict_vars(found) == {"stop": "worker", "note": "200"}
    # a value that is no plain word is left out (the scenario's default applies), never quoted into a command
    found["containers"][0]["name"] = "w; rm -rf /"
    del found["guide"]["health"]
    assert rule.verdict_vars(found) == {}


@pytest.mark.parametrize(("rules", "message"), [
    ([dict(GOOD, report_only="yes")], "rule x: report_only must be true or false"),
    ([dict(GOOD, report_only=True), dict(GOOD, id="y")],
     "rule y: report_only is false, but rule x of the same scenario outage has true"),
    ([dict(GOOD, vars={"since": "{window}m"})], "rule x: vars fill {window}, which is not one of its reads"),
])
def test_report_only_agrees_per_scenario_and_vars_fill_only_reads(rules: list[Any], message: str) -> None:
    with pytest.raises(ValueError) as caught:
        triage_rules.parse_rules({"rules": rules}, SCENARIOS)
    assert str(caught.value) == message


def test_the_shipped_security_rules_are_report_only() -> None:
    assert {rule.id for rule in RULES if rule.scenario == "security"} == {"env-changed", "failed-login-burst"}
    assert all(rule.report_only for rule in RULES if rule.scenario == "security")
    assert not any(rule.report_only for rule in RULES if rule.scenario != "security")


def test_rules_that_explain_each_other_are_refused() -> None:
    other = dict(GOOD, id="y", explains=["x"])
    with pytest.raises(ValueError, match="explains itself"):
        triage_rules.parse_rules({"rules": [dict(GOOD, explains=["y"]), other]}, SCENARIOS)


def test_a_rules_file_that_is_not_yaml_is_one_line_of_bad_input(tmp_path: Path) -> None:
    path = tmp_path / "rules.yml"
    path.write_text("rules:\n  - id: [unclosed\n", encoding="utf-8")
    with pytest.raises(BadInput) as caught:
        triage_rules.load_rules(path, SCENARIOS)
    assert str(caught.value).startswith(f"triage rules {path}: not YAML (line ") and "\n" not in str(caught.value)


def test_runbook_triage_with_a_bad_rules_file_says_so_in_one_line_and_runs_nothing(tmp_path: Path) -> None:
    """A copy of the project whose rules file names a scenario that does not exist."""
    project = tmp_path / "project"
    (project / "playbooks" / "triage").mkdir(parents=True)
    for name in ("outage.yml", "diagnose.yml"):
        (project / "playbooks" / name).write_bytes((ROOT / "playbooks" / name).read_bytes())
    (project / "ansible.cfg").write_bytes((ROOT / "ansible.cfg").read_bytes())
    (project / triage.RULES_FILE).write_text(json.dumps(bad(scenario="disk")), encoding="utf-8")
    runs = tmp_path / "runs"
    done = subprocess.run([sys.executable, "-m", "runbook", "triage", "-i", "web-1,"], capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT / "src"),
                               "RUNBOOK_PROJECT_DIR": str(project), "RUNBOOK_RUNS_DIR": str(runs)}, timeout=60)
    assert done.returncode == 2, done.stderr
    assert done.stderr == (f"runbook: error: triage rules {project / triage.RULES_FILE}: rule x: scenario disk is "
                           "not a scenario (scenarios: diagnose, outage)\n")
    assert not runs.exists()


def test_the_rules_file_ships_with_the_wheel() -> None:
    """setup.py copies playbooks/ into the wheel, MANIFEST.in grafts it into the sdist."""
    assert triage.RULES_FILE.parts[0] == "playbooks"
    assert "graft playbooks" in (ROOT / "MANIFEST.in").read_text(encoding="utf-8")
    assert '"playbooks"' in (ROOT / "setup.py").read_text(encoding="utf-8")


def test_per_host_names_the_hosts_without_a_diagnosis_and_why() -> None:
    diagnoses = {"web-1": diagnosis("api-stopped"), "web-2": diagnosis("healthy")}
    found = triage.per_host(RULES, diagnoses, ["web-1", "web-2", "web-3", "web-4"], {"web-4"}, ["prod.yml"],
                            ["--user", "ops", "-e", "app_domain=shop.example"])
    assert list(found) == ["web-1", "web-2", "web-3", "web-4"]
    assert [verdict["command"] for verdict in found["web-1"]["verdicts"]] == [
        "runbook run outage -i prod.yml --limit web-1 --user ops -e app_domain=shop.example"]
    assert found["web-2"] == {"diagnosed": True, "verdicts": []}
    assert found["web-3"] == {"diagnosed": False, "reason": "the diagnosis failed", "verdicts": []}
    assert found["web-4"] == {"diagnosed": False, "reason": "unreachable", "verdicts": []}


def test_host_lines_read_as_a_person_reads_them() -> None:
    found = diagnosis("unhealthy-after-deploy")
    verdicts = [verdict.to_dict("web-1", ["prod.yml"]) for verdict in triage.triage(RULES, found)]
    titles = {name: scenario.title for name, scenario in SCENARIOS.items()}
    assert triage.host_lines("web-1", {"diagnosed": True, "verdicts": verdicts}, titles) == [
        "web-1: 1 verdict, most urgent first",
        "  1. P0 rollback: Failed deployment / code rollback",
        "     evidence: API health 500 from GET http://localhost:3000/health, 23s after the deploy of "
        "8d6ce1a0a54fc9973b9cb61d83a705dab0611d39 was recorded healthy",
        "     explains: API health: 500 from GET http://localhost:3000/health",
        "     run: runbook run rollback -i prod.yml --limit web-1 -e commit=last-good",
    ]
    assert triage.host_lines("web-2", {"diagnosed": True, "verdicts": []}, titles) == [
        "web-2: nothing to do (no triage rule matched its diagnosis)"]
    assert triage.host_lines("web-3", {"diagnosed": False, "reason": "unreachable", "verdicts": []}, titles) == [
        "web-3: not diagnosed (unreachable)"]
