# SPDX-License-Identifier: GPL-3.0-or-later
"""The health_check role publishes the time to recover (set_stats `runbook_recovery`).

A real ansible-playbook runs the role on the controller (local connection)
against a real HTTP server on loopback that answers 503 until told otherwise;
what the role published is read from the run's custom stats (ansible.posix.json).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PLAYBOOK = Path(sys.executable).parent / "ansible-playbook"


class App:
    """/health answers 503 for the first `down_requests` requests, then 200."""

    def __init__(self) -> None:
        self.down_requests = 0
        self.requests = 0
        app = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                app.requests += 1
                self.send_response(503 if app.requests <= app.down_requests else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/health"


@pytest.fixture()
def app() -> Iterator[App]:
    served = App()
    thread = threading.Thread(target=served.server.serve_forever, daemon=True)
    thread.start()
    yield served
    served.server.shutdown()


INCLUDE = ("    - name: Check\n      ansible.builtin.include_role:\n        name: health_check\n"
           "      vars:\n        health_check_timeout: 10\n        health_check_interval: 0.1\n"
           "        health_check_fail: false\n")


def run_checks(tmp_path: Path, url: str, checks: int, first: str = "") -> dict:
    """Run the role `checks` times in one play (the first one's include replaced by `first` when
    given); the published runbook_recovery."""
    play = tmp_path / "play.yml"
    play.write_text("- name: Health\n  hosts: localhost\n  gather_facts: false\n"
                    "  roles:\n    - role: runbook_common\n  tasks:\n" + (first or INCLUDE) + INCLUDE * (checks - 1))
    env = {name: value for name, value in os.environ.items() if not name.startswith("ANSIBLE_")}
    env.update(ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_ROLES_PATH=str(ROOT / "roles"),
               ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", ANSIBLE_SHOW_CUSTOM_STATS="1",
               ANSIBLE_CALLBACKS_ENABLED="runbook.ops.runbook_guard",  # no timing lines in the JSON
               ANSIBLE_NOCOLOR="1")
    result = subprocess.run(
        [str(PLAYBOOK), "-i", "localhost,", "-c", "local", str(play),
         "-e", json.dumps({"ansible_python_interpreter": sys.executable, "app_health_url": url})],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    stats = json.loads(result.stdout)["global_custom_stats"]
    return stats["runbook_recovery"]["localhost"]


def test_a_healthy_first_answer_publishes_no_downtime(tmp_path: Path, app: App) -> None:
    seen = run_checks(tmp_path, app.url, 1)
    assert seen["checks"] == 1 and seen["last_healthy"] is True
    assert seen["down_at"] == "" and seen["healthy_at"] == ""


def test_down_then_healthy_publishes_when_it_went_down_and_came_back(tmp_path: Path, app: App) -> None:
    app.down_requests = 5  # the first poll needs several attempts: the app was down when it began
    before = time.time()
    seen = run_checks(tmp_path, app.url, 2)
    after = time.time()
    assert seen["checks"] == 2 and seen["last_healthy"] is True
    assert before <= float(seen["down_at"]) < float(seen["healthy_at"]) <= after
    # the first poll polled at least the 5 failed attempts, 0.1 s apart
    assert float(seen["healthy_at"]) - float(seen["down_at"]) >= 0.4


def test_a_poll_made_in_another_round_trip_is_recorded_without_a_request_of_its_own(tmp_path: Path, app: App) -> None:
    # The outage's check before the fix: the diagnosis polled (down for 2 s), and answered 3 s after the poll ended.
    polled = ("        health_check_polled: {status: -1, healthy: false, attempts: 3, elapsed: 2.0, "
              "msg: refused, ended_ago: 3.0}\n")
    before = time.time()
    seen = run_checks(tmp_path, app.url, 2, first=INCLUDE + polled)
    after = time.time()
    assert app.requests == 1  # only the second check asked the app
    assert seen["checks"] == 2 and seen["last_healthy"] is True
    # first seen down when the earlier poll began: 3 s before its answer, less its 2 s
    assert before - 5.0 <= float(seen["down_at"]) <= after - 5.0
    assert before <= float(seen["healthy_at"]) <= after
