"""The diagnosis matches the host: playbooks/diagnose.yml is run once more from
the controller as CI would run it (ansible-playbook, JSON output), and what it
published with set_stats and showed in its message is compared with what
docker, systemctl and df say on the host. The lines planted by prepare.yml come
out with their ANSI sequences stripped and their secrets redacted."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(os.environ.get("MOLECULE_PROJECT_DIRECTORY", Path(__file__).resolve().parents[3]))
SECRETS = ("sk_live_PLANTEDmolecule0123456789", "PLANTEDmoleculeSig", "PLANTEDnginxToken42")


def _ansible_playbook() -> str:
    beside = Path(sys.executable).parent / "ansible-playbook"
    return str(beside) if beside.exists() else shutil.which("ansible-playbook") or "ansible-playbook"


@pytest.fixture(scope="module")
def run() -> dict:
    """ansible-playbook playbooks/diagnose.yml with the JSON callback: its parsed output and its raw text."""
    env = dict(os.environ, ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", ANSIBLE_SHOW_CUSTOM_STATS="1",
               ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    result = subprocess.run([_ansible_playbook(), "-v", "-i", os.environ["MOLECULE_INVENTORY_FILE"],
                             "playbooks/diagnose.yml"], cwd=ROOT, capture_output=True, text=True, timeout=300, env=env)
    text = result.stdout + result.stderr
    assert result.returncode == 0, text[-3000:]
    # The timing callbacks print around the JSON document; it starts at a line "{".
    start = result.stdout.index("\n{\n") + 1
    output, end = json.JSONDecoder().raw_decode(result.stdout[start:])
    return {"json": output, "document": result.stdout[start:start + end], "text": text}


@pytest.fixture(scope="module")
def hostname(run) -> str:
    hosts = list(run["json"]["global_custom_stats"]["diagnosis"])
    assert len(hosts) == 1, hosts
    return hosts[0]


@pytest.fixture(scope="module")
def diagnosis(run, hostname) -> dict:
    return run["json"]["global_custom_stats"]["diagnosis"][hostname]


@pytest.fixture(scope="module")
def message(run, hostname) -> list[str]:
    for play in run["json"]["plays"]:
        for task in play["tasks"]:
            msg = task["hosts"].get(hostname, {}).get("msg")
            if isinstance(msg, list) and msg and str(msg[0]).startswith("Diagnosis of "):
                return msg
    raise AssertionError("no diagnosis message in the output")


def test_nothing_changed(run, hostname):
    assert run["json"]["stats"][hostname]["changed"] == 0


def test_published_shape(diagnosis):
    assert set(diagnosis) == {"containers", "services", "disk", "memory", "top_cpu", "top_mem", "log_errors"}
    assert all(set(row) == {"name", "state", "since", "restarts", "health"} for row in diagnosis["containers"])
    assert all(set(row) == {"name", "state", "since"} for row in diagnosis["services"])
    assert all(set(row) == {"mount", "size", "used", "avail", "use_pct"} for row in diagnosis["disk"])
    assert set(diagnosis["memory"]) == {"total_mb", "used_mb", "available_mb", "swap_used_mb"}
    assert set(diagnosis["log_errors"]) == {"api", "nginx"}


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
    assert len(by_cpu) == len(by_mem) == 5
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
    assert "\\u001b" not in run["document"] and "\\\\x1b" not in run["document"]
    for secret in SECRETS:
        assert secret not in run["text"]


def test_message_is_a_table_of_lines(message, diagnosis):
    header = message.index("Services and containers:") + 1
    assert message[header].split() == ["NAME", "KIND", "STATE", "SINCE", "RESTARTS", "HEALTH"]
    names = [line.split()[0] for line in message[header + 1:header + 5]]
    assert names == ["docker", "nginx"] + sorted(row["name"] for row in diagnosis["containers"])
    assert any(line.startswith("Memory: ") for line in message)
    assert any(line.startswith("Error lines of api: the last ") and "found in the last 500 log lines of " in line
               for line in message), message
    assert all("\n" not in line and not line.startswith("[") for line in message)  # lines, not Python reprs
