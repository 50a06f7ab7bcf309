# SPDX-License-Identifier: GPL-3.0-or-later
"""After a lockdown through the CLI and the unlock on a host whose ufw was
inactive and whose sshd listens on 2222 (ListenAddress): ufw is inactive again,
sshd kept its port, the app is healthy, the report carries the 72-hour deadline
although the run's sessions_command failed, and no .env value (the old JWT
secret, the new one, every other) nor the sessions_command's password is in
any file the CLI kept for the run nor in this scenario's molecule log."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "shared" / "tests"))

import leaks  # noqa: E402

SCENARIO = "security_inactive"
CONTAINER = f"runbook-{SCENARIO}"  # the shared platform's name
SESSIONS_PASSWORD = "Sessions-PW-4f9c2a7b1e8d"  # inside converge.yml's failing sessions_command
PROJECT = Path(os.environ.get("MOLECULE_PROJECT_DIRECTORY", Path(__file__).resolve().parents[3]))
MOLECULE_LOG = PROJECT / ".cache" / "molecule-logs" / f"{SCENARIO}.log"  # written by testbed/suite.py


@pytest.fixture(scope="module")
def run_dir() -> Path:
    runs = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "runs"
    folders = [path for path in runs.iterdir() if path.is_dir()]
    assert len(folders) == 1, folders
    return folders[0]


@pytest.fixture(scope="module")
def secrets() -> dict[str, str]:
    """Every .env value now and in the rotation's snapshot (the old secret), read without testinfra's logging."""
    def read(command: str) -> str:
        return subprocess.run(["docker", "exec", CONTAINER, "sh", "-c", command], capture_output=True,
                              text=True, check=True, timeout=60).stdout

    current = leaks.secret_values(read("cat /root/echoelmusic/backend/.env"))
    before = leaks.secret_values(read("cat /var/lib/runbook/snapshots/*-env/.env"), label="old ")
    return current | before | {"sessions_command password": SESSIONS_PASSWORD}


def test_health_answers_200(app):
    assert app.http_status(app.health_url) == "200"


def test_ufw_inactive_again(host):
    assert host.check_output("ufw status").strip() == "Status: inactive"


def test_sshd_kept_its_port(host):
    # ListenAddress only: sshd -T still prints `port 22`, its listen addresses say 2222.
    assert host.check_output("sshd -T | grep '^listenaddress ' | sort").split() == [
        "listenaddress", "0.0.0.0:2222", "listenaddress", "[::]:2222"]
    assert host.socket("tcp://0.0.0.0:2222").is_listening


def test_the_cli_kept_a_record_and_a_report_with_the_deadline(run_dir):
    record = json.loads((run_dir / "run.json").read_text())
    # The sessions_command failed: the run fails (exit 1), after the checklist was published.
    assert (record["scenario"], record["exit_code"], record["incident"]) == ("security", 1, "SEC-INACTIVE")
    (entry,) = record["published"]["security"].values()
    report = (run_dir / "report.md").read_text()
    assert "## Data protection deadline" in report
    assert f"**Notify the data protection authority before {entry['authority_deadline_utc']}**" in report
    assert entry["authority_deadline_epoch"] - entry["declared_at_epoch"] == 72 * 3600
    # What happened to the sessions, never the command's text.
    notes = [line for line in entry["done"] if line.startswith("Sessions")]
    assert len(notes) == 1 and notes[0].startswith("Sessions NOT invalidated: sessions_command failed (exit ")
    assert "redis-cli" not in report and "redis-cli" not in json.dumps(record)


def test_no_env_value_in_the_runs_records_nor_the_molecule_log(run_dir, secrets):
    # the old and the new JWT secret, the Stripe and Supabase keys, the database URL and its password
    assert {"JWT_SECRET", "old JWT_SECRET", "STRIPE_SECRET_KEY", "DATABASE_URL password",
            "sessions_command password"} <= set(secrets)
    assert secrets["JWT_SECRET"] != secrets["old JWT_SECRET"]
    files = leaks.files_under(run_dir.parent, MOLECULE_LOG)
    names = {path.name for path in files}
    assert {"run.json", "report.md", "stdout", "command"} <= names
    assert len([path for path in files if path.parent.name == "job_events"]) > 50
    assert leaks.scan(files, secrets) == []


def test_the_scan_reads_what_it_scans(run_dir):
    # A value known to be in the records (the run id) is found: the scan can fail.
    found = leaks.scan(leaks.files_under(run_dir.parent), {"run id": run_dir.name})
    assert f"run id in {run_dir / 'run.json'}" in found


def test_the_molecule_log_is_scanned_when_suite_py_writes_it():
    if not MOLECULE_LOG.is_file():
        pytest.skip(f"{MOLECULE_LOG} absent: molecule was not started by testbed/suite.py")
    assert leaks.scan([MOLECULE_LOG], {"scenario": "Lock down through the CLI"})
