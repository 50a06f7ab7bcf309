# SPDX-License-Identifier: GPL-3.0-or-later
"""disk.yml again, from the controller as CI runs it, on the same host set up
differently each time (pytest runs this file after test_disk.py, by name):

- daemon.json unparsable (a comment, a trailing comma): the whole cleanup
  still runs and frees space, the file is named as a problem and left as it
  is, the engine is not restarted; the backup step says what it left alone;
- the evidence folder full while a lockdown is recorded: the log step stops
  before cutting the log, says so, and the log is as it was;
- the engine on journald: daemon.json and the engine are left alone, and the
  run says so;
- no daemon.json (the engine configured by flags) and a reload that fails:
  the daemon.json the run created is removed again.

Each test puts the host back as it found it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(os.environ.get("MOLECULE_PROJECT_DIRECTORY", Path(__file__).resolve().parents[3]))
CONFIG = "/etc/docker/daemon.json"
DROP_IN = "/etc/systemd/system/docker.service.d/runbook-test.conf"
EVIDENCE = "/var/lib/runbook/evidence"
APP_LOGS = "/srv/pressure/app"
UNPARSABLE = """{
  // the engine on this host must not bridge
  "bridge": "none",
  "iptables": false,
  "log-driver": "json-file",
}
"""
JOURNALD = {"bridge": "none", "iptables": False, "live-restore": True, "log-driver": "journald"}


@dataclass
class Run:
    rc: int
    text: str
    published: dict[str, Any]


def run_disk(*args: str) -> Run:
    """ansible-playbook playbooks/disk.yml [args] against the scenario's host, with the JSON callback."""
    beside = Path(sys.executable).parent / "ansible-playbook"
    binary = str(beside) if beside.exists() else shutil.which("ansible-playbook") or "ansible-playbook"
    env = dict(os.environ, ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", ANSIBLE_SHOW_CUSTOM_STATS="1",
               ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    result = subprocess.run([binary, "-i", os.environ["MOLECULE_INVENTORY_FILE"], "playbooks/disk.yml", *args],
                            cwd=ROOT, capture_output=True, text=True, timeout=600, env=env)
    published: dict[str, Any] = {}
    if "\n{\n" in result.stdout:
        start = result.stdout.index("\n{\n") + 1
        document, _ = json.JSONDecoder().raw_decode(result.stdout[start:])
        published = document.get("global_custom_stats", {})
    return Run(result.returncode, result.stdout + result.stderr, published)


def disk_stats(run: Run) -> dict[str, Any]:
    """What disk.yml published (set_stats `disk`; one host in this scenario)."""
    return run.published["disk"]


def engine_pid(host) -> str:
    return host.check_output("cat /var/run/docker.pid")


def restart_engine(host) -> None:
    # These tests restart the engine several times within a minute: clear systemd's start limit first.
    host.check_output("systemctl reset-failed docker.service docker.socket; systemctl restart docker")
    for _ in range(60):
        if host.run("docker info").rc == 0:
            return
        time.sleep(1)
    raise AssertionError("the engine did not come back")


@pytest.fixture()
def daemon_json(host):
    """daemon.json as the converge left it, put back (and the engine restarted) afterwards."""
    kept = host.file(CONFIG).content_string
    yield kept
    host.check_output("printf '%%s' %s > %s", kept, CONFIG)
    restart_engine(host)


def test_an_unparsable_daemon_json_is_named_and_the_cleanup_still_frees_space(host, daemon_json):
    host.check_output("printf '%%s' %s > %s", UNPARSABLE, CONFIG)
    sha, pid = host.check_output("sha256sum %s", CONFIG), engine_pid(host)
    host.check_output("seq -f 'api line %%012.0f again' 1 200000 >> %s/api.log", APP_LOGS)
    assert host.file(APP_LOGS + "/api.log").size > 3 * 1024 * 1024

    run = run_disk()

    assert run.rc == 0, run.text[-3000:]
    assert host.check_output("sha256sum %s", CONFIG) == sha  # left as it is
    assert engine_pid(host) == pid  # and the engine, which would not start with it, not restarted
    assert host.file(APP_LOGS + "/api.log").size <= 1024 * 1024  # the space was still freed
    stats = disk_stats(run)
    assert stats["log_caps"]["problem"].startswith(CONFIG + " is not a JSON object")
    assert "Problem to fix by hand: " + CONFIG + " is not a JSON object" in run.text
    # The backup step ran after it, and said what it left alone.
    assert "fewer than 2 valid, so nothing of this series is deleted" in run.text
    assert "Broken, kept for a person to look at: " in run.text and "(empty)" in run.text
    assert "Not searched (disk_backup_recurse=false): /srv/pressure/backups/archive" in run.text
    assert len(stats["backups_broken"]) == 3  # the empty and the cut-short gzip, the .dump that is not one


def test_no_room_for_the_evidence_stops_before_the_log_is_cut(host):
    log = APP_LOGS + "/noroom.log"
    host.check_output("mkdir -p %s && mount -t tmpfs -o size=64k tmpfs %s", EVIDENCE, EVIDENCE)
    try:
        host.check_output("head -c 3M /dev/urandom | base64 > %s", log)
        sha = host.check_output("sha256sum %s", log)

        run = run_disk("--tags", "logs")

        assert run.rc != 0, run.text[-3000:]
        assert "Stopped before cutting " + log + ": no room under " + EVIDENCE in run.text
        assert "a lockdown is recorded" in run.text
        assert host.check_output("sha256sum %s", log) == sha  # as it was
        assert host.check_output("find %s -name '*.partial'", EVIDENCE) == ""
    finally:
        host.run("umount %s", EVIDENCE)
        host.run("rm -f %s", log)


def test_a_journald_engine_is_left_alone_and_the_run_says_so(host, daemon_json):
    host.check_output("printf '%%s' %s > %s", json.dumps(JOURNALD), CONFIG)
    restart_engine(host)
    sha, pid = host.check_output("sha256sum %s", CONFIG), engine_pid(host)

    run = run_disk("--tags", "log_caps")

    assert run.rc == 0, run.text[-3000:]
    assert json.loads(host.file(CONFIG).content_string) == JOURNALD
    assert host.check_output("sha256sum %s", CONFIG) == sha
    assert engine_pid(host) == pid
    caps = disk_stats(run)["log_caps"]
    assert caps["left_alone"].startswith("log-driver journald left alone")
    assert "log-driver journald left alone" in run.text and "daemon.json not changed, engine not restarted" in run.text


def test_a_daemon_json_the_run_created_is_removed_when_the_reload_fails(host, daemon_json):
    # The engine takes its settings from flags, with no daemon.json, and its reload fails.
    exec_start = host.check_output("systemctl show docker -p ExecStart --value | sed -n 's/.*argv\\[\\]=\\([^;]*\\);.*/\\1/p'")
    assert "dockerd" in exec_start, exec_start
    host.check_output("mkdir -p %s", os.path.dirname(DROP_IN))
    host.check_output("printf '%%s\\n' '[Service]' 'ExecStart=' %s 'ExecReload=' 'ExecReload=/bin/false' > %s",
                      "ExecStart=" + exec_start.strip() + " --bridge=none --iptables=false", DROP_IN)
    host.check_output("rm -f %s && systemctl daemon-reload", CONFIG)
    try:
        restart_engine(host)

        run = run_disk("--tags", "log_caps")

        assert run.rc != 0, run.text[-3000:]
        assert "the " + CONFIG + " this run created was removed (there was none before)" in run.text
        assert not host.file(CONFIG).exists
        assert host.run("docker info").rc == 0  # the engine runs, with its flags
    finally:
        host.run("rm -f %s && systemctl daemon-reload", DROP_IN)
