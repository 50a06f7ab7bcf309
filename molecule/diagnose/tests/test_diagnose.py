# SPDX-License-Identifier: GPL-3.0-or-later
"""The diagnosis of a healthy host matches the host: playbooks/diagnose.yml is
run once more from the controller as CI would run it (ansible-playbook, JSON
output), and what it published with set_stats and showed in its message is
compared with what docker, systemctl, df, openssl, ufw and the files say on the
host. Every item of the guide has its source here (prepare.yml). The lines
planted by prepare.yml come out with their ANSI sequences stripped and their
secrets redacted."""

from __future__ import annotations

import json
import re
from datetime import datetime

import pytest
from diagnose_run import LINEAGE, SERVED, Run, certificate_on_host, env_secrets, leaked, run_diagnose

SECRETS = ("sk_live_PLANTEDmolecule0123456789", "PLANTEDmoleculeSig", "PLANTEDnginxToken42")
CHECKS = ["API health", "Database health", "Certificate file (api.echoelmusic.com)", "Certificate served", "Run lock",
          "Last healthy release", "Last backup", "Firewall (ufw)", "Failed systemd units", "Docker disk", "Memory and CPU",
          "Payment errors", "Signs of compromise"]


@pytest.fixture(scope="module")
def run() -> Run:
    return run_diagnose()


@pytest.fixture(scope="module")
def hostname(run) -> str:
    return run.host


@pytest.fixture(scope="module")
def diagnosis(run) -> dict:
    return run.diagnosis


@pytest.fixture(scope="module")
def guide(run) -> dict:
    return run.guide


@pytest.fixture(scope="module")
def message(run) -> list[str]:
    return run.message


def test_nothing_changed(run):
    assert run.stats["changed"] == 0 and run.stats["failures"] == 0


def test_published_shape(diagnosis):
    assert set(diagnosis) == {"containers", "services", "disk", "memory", "top_cpu", "top_mem", "log_errors",
                              "guide", "checks"}
    assert set(diagnosis["guide"]) == {"health", "db_health", "certificate", "docker_disk", "failed_units", "firewall",
                                       "backup", "lock", "last_release", "resources", "oom", "payments", "env_file",
                                       "failed_logins"}
    assert [item["check"] for item in diagnosis["checks"]] == CHECKS
    assert all(set(row) == {"name", "state", "since", "restarts", "health", "service", "oom_killed"}
               for row in diagnosis["containers"])
    assert all(set(row) == {"name", "state", "since"} for row in diagnosis["services"])
    assert all(set(row) == {"mount", "size", "used", "avail", "use_pct"} for row in diagnosis["disk"])
    assert set(diagnosis["memory"]) == {"total_mb", "used_mb", "available_mb", "swap_used_mb"}
    assert set(diagnosis["log_errors"]) == {"api", "nginx"}


def test_each_container_names_its_compose_service_and_whether_it_was_oom_killed(host, diagnosis):
    for row in diagnosis["containers"]:
        real = host.check_output("docker inspect -f '{{index .Config.Labels \"com.docker.compose.service\"}} "
                                 "{{.State.OOMKilled}}' %s", row["name"]).split()
        assert [row["service"], str(row["oom_killed"]).lower()] == real == [real[0], "false"]
    assert sorted(row["service"] for row in diagnosis["containers"]) == ["api", "worker"]


def test_memory_cpu_and_load_match_the_host_and_their_limits(host, guide):
    resources = guide["resources"]
    total, available = (int(value) for value in host.check_output(
        "awk '/^MemTotal:/ {t=$2} /^MemAvailable:/ {a=$2} END {print t, a}' /proc/meminfo").split())
    # the machine's memory is shared with other hosts: it moves a little between two readings
    assert resources["memory_pct"] == pytest.approx(100.0 * (total - available) / total, abs=2)
    assert resources["cpus"] == int(host.check_output("nproc --all"))
    assert 0 <= resources["cpu_pct"] <= 100 and resources["load1"] >= 0
    assert resources["load_pct"] == pytest.approx(100 * resources["load1"] / resources["cpus"], abs=0.1)
    assert (resources["memory_pct_max"], resources["cpu_pct_max"], resources["load_pct_max"]) == (90, 90, 100)
    assert resources["memory_over"] == (resources["memory_pct"] >= 90)
    assert resources["cpu_over"] == (resources["cpu_pct"] >= 90 and resources["load_pct"] >= 100)


def test_oom_kills_match_the_kernel_log(host, guide):
    oom = guide["oom"]
    since = int(host.check_output("date +%s")) - 3600
    lines = host.check_output("dmesg --time-format iso --level err").splitlines()
    kills = [line for line in lines if re.search(r"out of memory: Killed process \d+", line, re.IGNORECASE)
             and datetime.fromisoformat(line.split()[0].replace(",", ".")).timestamp() >= since]
    assert (oom["source"], oom["window_min"], oom["containers"]) == ("the kernel log (dmesg)", 60, [])
    assert oom["count"] == len(kills)  # the machine's kernel: another host's OOM kill counts too


def test_payment_errors_are_the_planted_stripe_line_redacted(guide, run):
    payments = guide["payments"]
    assert (payments["service"], payments["window_min"], payments["count"]) == ("api", 30, 1)
    assert payments["lines"][0].endswith(" ERROR payment failed (card_declined) STRIPE_SECRET_KEY=********")
    assert run.checks["Payment errors"].startswith("1 payment error lines in the last 30 min")


def test_env_file_and_failed_logins_match_the_host(host, app, guide):
    env_file = host.ansible.get_variables().get("app_env_file", app.compose_dir + "/.env")
    item = guide["env_file"]
    mtime = int(host.check_output("stat -c %%Y %s", env_file))
    last = app.ledger()[-1]
    assert (item["path"], item["found"], item["last_release_time"]) == (env_file, True, last["time"])
    assert item["changed_after_release"] is (mtime > last["epoch"]) is False  # prepare recorded v4 after the layout
    logins = guide["failed_logins"]
    journal = host.check_output("journalctl --since -10min --no-pager -o cat -t sshd-session -t sshd -t sshd-auth "
                                "--grep 'Invalid user |Failed password|authentication failure' || true")
    assert (logins["count"], logins["burst"], logins["max"], logins["window_min"]) == (0, False, 10, 10)
    assert journal.strip() in ("", "-- No entries --")


def test_containers_match_docker_on_the_host(host, app, diagnosis):
    ids = host.check_output("cd %s && docker compose ps --all -q", app.compose_dir).split()
    assert ids and all(cid.isalnum() for cid in ids), ids
    real = {}
    inspect = "docker inspect -f '{{.Name}} {{.State.Status}} {{.RestartCount}} {{.State.StartedAt}}' " + " ".join(ids)
    for line in host.check_output(inspect).splitlines():
        name, state, restarts, started = line.split()
        real[name.lstrip("/")] = (state, int(restarts), started[:19] + "Z")
    reported = {row["name"]: (row["state"], row["restarts"], row["since"]) for row in diagnosis["containers"]}
    assert reported == real
    assert {state for state, _, _ in reported.values()} == {"running"}
    assert {row["health"] for row in diagnosis["containers"]} == {"none"}  # the fixture's stack has no healthcheck


@pytest.mark.parametrize("unit", ["docker", "nginx"])
def test_services_match_systemctl(host, diagnosis, unit):
    reported = {row["name"]: row for row in diagnosis["services"]}
    assert reported[unit]["state"] == host.run("systemctl is-active %s", unit).stdout.strip() == "active"
    since = host.check_output("systemctl show -p ActiveEnterTimestamp --timestamp=unix %s", unit)
    epoch = since.split("=@")[1]
    assert epoch.isdigit(), since
    assert reported[unit]["since"] == host.check_output("date -u -d @%s +%%Y-%%m-%%dT%%H:%%M:%%SZ", epoch)


def test_disk_row_for_root_matches_df(host, diagnosis):
    rows = {row["mount"]: row for row in diagnosis["disk"]}
    assert "/" in rows, rows
    size, used, avail, pct = host.check_output("df -hP / | tail -n 1").split()[1:5]
    assert rows["/"]["size"] == size
    assert abs(rows["/"]["use_pct"] - int(pct.rstrip("%"))) <= 1  # the machine's disk is shared with others
    assert not [mount for mount in rows if mount.startswith(("/var/lib/docker", "/run", "/sys", "/proc", "/dev"))]


def test_memory_matches_free(host, diagnosis):
    total = int(host.check_output("free -m | awk '/^Mem:/ {print $2}'"))
    memory = diagnosis["memory"]
    assert memory["total_mb"] == total
    assert memory["used_mb"] + memory["available_mb"] == pytest.approx(total, abs=1)


def test_top_processes_from_one_ps_sorted_both_ways(diagnosis):
    by_cpu, by_mem = diagnosis["top_cpu"], diagnosis["top_mem"]
    assert len(by_cpu) == len(by_mem) == 3  # diagnose.yml keeps three of each, for one screen
    assert [p["cpu"] for p in by_cpu] == sorted((p["cpu"] for p in by_cpu), reverse=True)
    assert [p["mem"] for p in by_mem] == sorted((p["mem"] for p in by_mem), reverse=True)
    assert any("dockerd" in p["command"] for p in by_mem)


def test_api_error_lines_stripped_and_redacted(diagnosis):
    api = diagnosis["log_errors"]["api"]
    stdout_line = [line for line in api if "payment failed (card_declined)" in line]
    assert len(stdout_line) == 1, api
    assert stdout_line[0].endswith(" ERROR payment failed (card_declined) STRIPE_SECRET_KEY=********")
    assert any(line.endswith("Exception in webhook handler, Authorization: Bearer ********") for line in api), api


def test_nginx_error_line_redacted(diagnosis):
    nginx = diagnosis["log_errors"]["nginx"]
    planted = [line for line in nginx if 'client: 127.0.0.1, request: "GET /health?token=******** HTTP/1.1"' in line]
    assert len(planted) == 1 and "[error]" in planted[0], nginx


def test_no_escape_sequence_in_the_results_and_no_secret_anywhere_in_the_output(run):
    # The JSON document escapes a real ESC as \u001b: neither form may be there.
    assert "\\u001b" not in run.document and "\\\\x1b" not in run.document
    for secret in SECRETS:
        assert secret not in run.text


def test_message_is_a_table_of_lines(message, diagnosis):
    header = message.index("Services and containers:") + 1
    assert message[header].split() == ["NAME", "KIND", "STATE", "SINCE", "RESTARTS", "HEALTH"]
    names = [line.split()[0] for line in message[header + 1:header + 5]]
    assert names == ["docker", "nginx"] + sorted(row["name"] for row in diagnosis["containers"])
    assert any(line.startswith("Memory: ") for line in message)
    assert any(line.startswith("Error lines of api: the last ") and "found in the last 500 log lines of " in line
               for line in message), message
    assert all("\n" not in line and not line.startswith("[") for line in message)  # lines, not Python reprs


def test_the_guide_opens_the_message_on_one_screen(message, run):
    assert [line.split(": ", 1)[0] for line in message[1:1 + len(CHECKS)]] == CHECKS
    assert message[1:1 + len(CHECKS)] == ["%s: %s" % (check, result) for check, result in run.checks.items()]
    assert len(message) <= 40, len(message)
    assert not any("unknown (" in line for line in message[1:1 + len(CHECKS)]), message  # every source is there


def test_health_endpoints_match_curl(host, app, guide, run):
    db_url = host.ansible.get_variables().get("app_db_health_url", "http://localhost:3000/api/health/db")
    for key, url in (("health", app.health_url), ("db_health", db_url)):
        assert guide[key]["url"] == url
        assert str(guide[key]["status"]) == app.http_status(url) == "200"
        assert guide[key]["error"] == ""
    assert run.published["api_health"] == run.published["db_health"] == 200
    assert run.checks["API health"].startswith("healthy: 200 in ")


def test_certificate_file_and_served_match_openssl(host, guide):
    cert = guide["certificate"]
    assert cert["domain"] == "api.echoelmusic.com"
    path = LINEAGE
    days, serial = certificate_on_host(host, "cat " + path)
    assert (cert["file"]["path"], cert["file"]["days_left"], cert["file"]["serial"]) == (path, days, serial)
    assert days == 89  # the 90-day certificate prepare.yml made, counted down in whole days
    served_days, served_serial = certificate_on_host(host, SERVED)
    assert (cert["served"]["days_left"], cert["served"]["serial"]) == (served_days, served_serial) == (days, serial)
    assert cert["same"] is True


def test_lock_is_free_like_the_host(host, app, guide, run):
    assert not host.file(app.state_dir + "/run.lock").exists
    assert guide["lock"] == {"held": False, "error": ""}
    assert run.checks["Run lock"] == "free"


def test_last_release_is_the_ledgers_last(app, guide, run):
    last = app.ledger()[-1]
    assert last["commit"] == app.sha("HEAD")
    assert (guide["last_release"]["commit"], guide["last_release"]["time"]) == (last["commit"], last["time"])
    assert run.checks["Last healthy release"].startswith(last["commit"][:12] + " at ")


def test_last_backup_is_the_newest_file(host, guide):
    backup_dir = host.ansible.get_variables().get("backup_dir", "/root/backups")
    listing = host.check_output("find %s -type f ! -name '.*' -printf '%%T@ %%P\\n' | sort -n", backup_dir).splitlines()
    newest_mtime, newest = listing[-1].split(" ", 1)
    backup = guide["backup"]
    assert (backup["dir"], backup["file"], backup["files"]) == (backup_dir, newest, len(listing)) == (
        backup_dir, newest, 2)
    host_age = int(host.check_output("date +%s")) - float(newest_mtime)
    assert abs(backup["age"] - host_age) <= 120 and 3 * 3600 - 60 <= backup["age"]  # the dump is three hours old


def test_firewall_matches_ufw(host, guide, run):
    assert host.check_output("ufw status").splitlines()[0] == "Status: active"
    added = [line for line in host.check_output("ufw show added").splitlines() if line.startswith("ufw ")]
    assert guide["firewall"] == {"state": "active", "rules": len(added), "error": ""}
    assert len(added) == 3 and run.checks["Firewall (ufw)"] == "active, 3 rules"


def test_failed_units_match_systemctl(host, guide):
    failed = host.check_output("systemctl list-units --failed --all --plain --no-legend --no-pager").split("\n")
    assert guide["failed_units"] == {"units": [line.split()[0] for line in failed if line.strip()], "error": ""}


def test_docker_disk_matches_docker_system_df(host, guide):
    real = [json.loads(line) for line in host.check_output("docker system df --format '{{json .}}'").splitlines()]
    reported = guide["docker_disk"]["rows"]
    assert [(row["type"], row["count"], row["active"]) for row in reported] == [
        (item["Type"], int(item["TotalCount"]), int(item["Active"])) for item in real]
    assert reported[0]["type"] == "Images" and reported[0]["size"] == real[0]["Size"]


def test_no_env_value_in_the_output(host, app, run):
    env_file = host.ansible.get_variables().get("app_env_file", app.compose_dir + "/.env")
    assert leaked(env_secrets(host, env_file), run.text, run.document) == []
