# SPDX-License-Identifier: GPL-3.0-or-later
"""The diagnosis of a broken host: after test_diagnose.py (pytest runs this file
second, by name), the host is broken the way an incident leaves it (api stopped,
a failed unit, ufw inactive, no backups, a run lock left behind, a renewed
certificate nginx never loaded). The diagnosis is run as CI would, then again
with --check: both change nothing, say the same, match the host, repair
nothing, and print no value of the app's .env."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any

import pytest
from diagnose_run import ROOT, LINEAGE, SERVED, Run, certificate_on_host, env_secrets, leaked, run_diagnose, steady

FAILED_UNIT = "runbook-diagnose-broken.service"
LOCK_OWNER = '{"token": "0123abcd", "owner": "ci@builder", "scenario": "Complete service outage", "started": "%s"}'


@dataclass
class Broken:
    run: Run
    check: Run
    lock_owner: str  # the lock's owner file as planted
    served_serial: str  # what nginx served before the runs


def _host_state(host: Any, compose_dir: str, lock: str) -> dict[str, Any]:
    """What a repair would change: the api's state, ufw, the failed unit, the lock, the backups, what nginx serves."""
    return {
        "api": host.check_output("cd %s && docker compose ps --all --format '{{.State}}' api", compose_dir),
        "ufw": host.check_output("ufw status").splitlines()[0],
        "unit": host.run("systemctl is-failed %s", FAILED_UNIT).stdout.strip(),
        "lock": host.file(lock + "/owner").content_string,
        "backups": host.file("/root/backups").exists,
        "served": certificate_on_host(host, SERVED)[1],
    }


@pytest.fixture(scope="module")
def broken(host) -> Broken:
    variables = host.ansible.get_variables()
    compose_dir = variables.get("app_compose_dir", variables.get("app_repo_dir", "/root/echoelmusic") + "/backend")
    lock = variables.get("runbook_state_dir", "/var/lib/runbook") + "/run.lock"
    # After the healthy verify: the api stops, a unit fails, ufw goes off, the backups are gone.
    host.check_output("cd %s && docker compose stop api 2>&1", compose_dir)
    host.run("systemd-run --unit=%s /bin/false", FAILED_UNIT)
    host.check_output("ufw disable")
    host.check_output("rm -rf /root/backups")
    # A run whose controller died ten minutes ago left its lock (runbook_lock's layout).
    started = host.check_output("date -u -d '-12 minutes' +%Y-%m-%dT%H:%M:%SZ")
    host.check_output("mkdir -p %s && printf '%%s\\n' %s > %s/owner && touch %s/heartbeat", lock,
                      LOCK_OWNER % started, lock, lock)
    host.check_output("touch -d '-10 minutes' %s/owner %s/heartbeat %s", lock, lock, lock)
    # Signs of compromise: the .env changed after the last recorded release, and twelve failed SSH logins
    # (sshd of the host, on its loopback).
    host.check_output("touch %s", compose_dir + "/.env")
    host.check_output("for i in $(seq 1 12); do ssh -o BatchMode=yes -o StrictHostKeyChecking=no "
                      "-o UserKnownHostsFile=/dev/null -o ConnectTimeout=5 intruder$i@127.0.0.1 true 2>/dev/null; "
                      "done; true")
    # certbot renewed the lineage (20 days) but nginx still serves the old certificate.
    host.check_output("openssl req -x509 -newkey rsa:2048 -nodes -days 20 -subj /CN=api.echoelmusic.com "
                      "-keyout /tmp/renewed.key -out %s 2>&1", LINEAGE)
    assert host.run("systemctl is-failed %s", FAILED_UNIT).stdout.strip() == "failed"
    before = _host_state(host, compose_dir, lock)
    assert before["api"] == "exited"
    run = run_diagnose()
    check = run_diagnose("--check")
    assert _host_state(host, compose_dir, lock) == before  # nothing repaired, by either run
    return Broken(run=run, check=check, lock_owner=before["lock"], served_serial=before["served"])


def test_nothing_changed_and_nothing_failed_in_either_mode(broken):
    for run in (broken.run, broken.check):
        assert run.stats["changed"] == 0 and run.stats["failures"] == 0 and run.stats["unreachable"] == 0


def test_check_mode_says_the_same(broken):
    assert steady(broken.check.guide) == steady(broken.run.guide)
    assert [row["state"] for row in broken.check.diagnosis["containers"]] == [
        row["state"] for row in broken.run.diagnosis["containers"]]
    assert broken.check.checks.keys() == broken.run.checks.keys()


def test_api_stays_stopped_and_the_diagnosis_says_so(host, app, broken):
    assert host.check_output("cd %s && docker compose ps --all --format '{{.State}}' api", app.compose_dir) == "exited"
    states = {row["name"]: row["state"] for row in broken.run.diagnosis["containers"]}
    assert states == {"backend-api-1": "exited", "backend-worker-1": "running"}
    for key in ("health", "db_health"):
        item = broken.run.guide[key]
        assert item["status"] is None and "refused" in item["error"].lower(), item
    curl = host.run("curl -s -o /dev/null -w '%%{http_code}' --max-time 5 %s", app.health_url)
    assert (curl.rc, curl.stdout) == (7, "000")  # curl: could not connect
    assert broken.run.checks["API health"].startswith("NOT healthy: no answer from GET http://localhost:3000/health")
    assert broken.run.published["api_health"] == broken.run.published["db_health"] == -1


def test_renewed_but_not_loaded_certificate(host, broken):
    cert = broken.run.guide["certificate"]
    days, serial = certificate_on_host(host, "cat " + LINEAGE)
    assert (cert["file"]["days_left"], cert["file"]["serial"]) == (days, serial) and days == 19
    assert cert["served"]["serial"] == broken.served_serial != serial
    assert cert["served"]["days_left"] == 89 and cert["same"] is False
    assert "NOT the lineage's certificate" in broken.run.checks["Certificate served"]


def test_lock_held_by_the_dead_run(host, app, broken):
    lock = broken.run.guide["lock"]
    assert (lock["held"], lock["owner"], lock["scenario"], lock["stale"]) == (
        True, "ci@builder", "Complete service outage", True)
    assert broken.lock_owner.strip() == LOCK_OWNER % lock["started"]
    now = int(host.check_output("date +%s"))
    mtime = int(host.check_output("stat -c %%Y %s", app.state_dir + "/run.lock/heartbeat"))
    assert abs(lock["heartbeat_age"] - (now - mtime)) <= 60 and lock["heartbeat_age"] >= 600
    text = broken.run.checks["Run lock"]
    assert text.startswith("held by ci@builder (Complete service outage) since ") and "(12m ago)" in text
    assert text.endswith(": stale, `runbook unlock-stale` gives it back")


def test_sources_gone_read_unknown(broken):
    assert broken.run.checks["Last backup"] == "unknown (no backup directory /root/backups)"
    assert broken.run.guide["backup"] == {"dir": "/root/backups", "error": "no backup directory /root/backups"}


def test_ufw_inactive_with_its_rules_kept(host, broken):
    assert host.check_output("ufw status") == "Status: inactive"
    assert broken.run.guide["firewall"] == {"state": "inactive", "rules": 3, "error": ""}


def test_failed_unit_listed_like_systemctl(host, broken):
    failed = host.check_output("systemctl list-units --failed --all --plain --no-legend --no-pager").splitlines()
    assert broken.run.guide["failed_units"]["units"] == [line.split()[0] for line in failed if line.strip()]
    assert FAILED_UNIT in broken.run.guide["failed_units"]["units"]
    assert FAILED_UNIT in broken.run.checks["Failed systemd units"]


def test_signs_of_compromise_match_the_host_and_triage_reports_security_without_running_it(host, app, broken):
    guide = broken.run.guide
    mtime = int(host.check_output("stat -c %%Y %s", app.compose_dir + "/.env"))
    assert guide["env_file"]["changed_after_release"] is True and mtime > app.ledger()[-1]["epoch"]
    assert guide["env_file"]["time"] == host.check_output("date -u -d @%s +%%Y-%%m-%%dT%%H:%%M:%%SZ", str(mtime))
    logins = guide["failed_logins"]
    invalid = host.check_output("journalctl --since -10min --no-pager -o cat --grep 'Invalid user intruder'")
    assert (logins["count"], logins["burst"], logins["sources"]) == (12, True, "127.0.0.1 (12)")
    assert len(invalid.splitlines()) == 12
    assert "a BURST (limit 10)" in broken.run.checks["Signs of compromise"]
    # the shipped triage rules on this host's published diagnosis: the stopped api first, then security, reported only
    sys.path.insert(0, str(ROOT / "src"))
    from runbook import triage, triage_rules
    from runbook.catalog import load_catalog

    rules = triage_rules.load_rules(ROOT / triage.RULES_FILE, load_catalog(ROOT).scenarios)
    verdicts = triage.triage(rules, broken.run.diagnosis)
    found = {verdict.scenario: verdict for verdict in verdicts}
    assert found["security"].severity == "P0" and found["security"].report_only is True
    assert found["security"].rules == ["env-changed", "failed-login-burst"]
    assert not found["outage"].report_only


def test_message_still_one_screen(broken):
    assert len(broken.run.message) <= 40, broken.run.message


def test_no_env_value_in_either_output(host, app, broken):
    env_file = host.ansible.get_variables().get("app_env_file", app.compose_dir + "/.env")
    assert leaked(env_secrets(host, env_file), broken.run.text, broken.check.text) == []
