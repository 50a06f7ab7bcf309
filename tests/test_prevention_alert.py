"""The prevention checklist's alert script (roles/prevention_alerts), rendered
from its template and run here: alerts reach a real local webhook as JSON, the
health alert fires only after N failures in a row and resets on success, and
without a webhook the alert goes to `logger -t runbook-alert`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import jinja2
import pytest

TEMPLATE = Path(__file__).resolve().parent.parent / "roles/prevention_alerts/templates/runbook-alert.py.j2"


class Receiver(BaseHTTPRequestHandler):
    posts: list[dict] = []
    healthy = True

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Receiver.posts.append(json.loads(body))
        self.send_response(200)
        self.end_headers()

    def do_GET(self) -> None:  # noqa: N802
        self.send_response(200 if Receiver.healthy else 503)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def receiver() -> Iterator[str]:
    Receiver.posts = []
    Receiver.healthy = True
    server = HTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture()
def script(tmp_path: Path) -> Path:
    text = jinja2.Template(TEMPLATE.read_text()).render(
        ansible_managed="test", prevention_alerts_env_file=str(tmp_path / "alert.env"),
        prevention_alerts_state_dir=str(tmp_path / "state"))
    path = tmp_path / "runbook-alert"
    path.write_text(text)
    return path


def run(script: Path, **env: str) -> None:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("RUNBOOK_ALERT_")}
    subprocess.run([sys.executable, str(script)], env={**clean, **env}, check=True, timeout=30)


def test_a_lowered_disk_threshold_posts_to_the_webhook(script: Path, receiver: str) -> None:
    run(script, RUNBOOK_ALERT_URL=receiver + "/hook", RUNBOOK_ALERT_DISK_PERCENT="1")
    assert len(Receiver.posts) == 1
    assert "disk / is" in Receiver.posts[0]["text"] and "(alert at 1%)" in Receiver.posts[0]["text"]


def test_settings_come_from_the_env_file(script: Path, receiver: str, tmp_path: Path) -> None:
    (tmp_path / "alert.env").write_text(f"# settings\nRUNBOOK_ALERT_URL={receiver}/hook\nRUNBOOK_ALERT_DISK_PERCENT=1\n")
    run(script)
    assert len(Receiver.posts) == 1


def test_a_high_threshold_and_a_healthy_url_stay_quiet(script: Path, receiver: str) -> None:
    run(script, RUNBOOK_ALERT_URL=receiver + "/hook", RUNBOOK_ALERT_DISK_PERCENT="100",
        RUNBOOK_ALERT_HEALTH_URL=receiver + "/health", RUNBOOK_ALERT_HEALTH_FAILURES="1")
    assert Receiver.posts == []


def test_the_health_alert_fires_after_n_failures_in_a_row(script: Path, receiver: str) -> None:
    env = {"RUNBOOK_ALERT_URL": receiver + "/hook", "RUNBOOK_ALERT_DISK_PERCENT": "100",
           "RUNBOOK_ALERT_HEALTH_URL": receiver + "/health", "RUNBOOK_ALERT_HEALTH_FAILURES": "2"}
    Receiver.healthy = False
    run(script, **env)
    assert Receiver.posts == []
    run(script, **env)
    assert [p["text"].split(": ", 1)[1] for p in Receiver.posts] == [f"health {receiver}/health failed 2 times in a row"]
    Receiver.healthy = True
    run(script, **env)
    Receiver.healthy = False
    run(script, **env)
    assert len(Receiver.posts) == 1  # the success reset the count


def test_without_a_webhook_the_alert_goes_to_logger(script: Path, tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    record = tmp_path / "logger-args"
    (bin_dir / "logger").write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > {record}\n')
    (bin_dir / "logger").chmod(0o755)
    run(script, PATH=f"{bin_dir}:{os.environ['PATH']}", RUNBOOK_ALERT_DISK_PERCENT="1")
    args = record.read_text().splitlines()
    assert args[:2] == ["-t", "runbook-alert"]
    assert "disk / is" in args[-1]
