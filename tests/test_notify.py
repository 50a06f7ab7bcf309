# SPDX-License-Identifier: GPL-3.0-or-later
"""Notifications: a run's start and end posted as Slack-compatible JSON to a real local receiver."""

from __future__ import annotations

import json
import socket
import textwrap
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from runbook.cli import main
from runbook.inventory_vars import pick, read_settings
from runbook.notify import Notifier, RunNotice, choose_url, post
from runbook.redact import Redactor

SECRET = "sk_live_PLANTEDnotify0123456789"


class Receiver:
    """A webhook on 127.0.0.1 (ephemeral port) in a thread; keeps what was posted."""

    def __init__(self, status: int = 200, delay: float = 0.0) -> None:
        self.posts: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.closing = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                receiver.headers.append(dict(self.headers))
                receiver.posts.append(json.loads(body))
                if receiver.closing.wait(delay):
                    return  # the test is over: no answer
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", "http://127.0.0.1:9/elsewhere")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = False  # server_close waits for the handlers
        self.server.handle_error = lambda request, address: None  # a client that gave up is expected
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/services/T000/B000/XXXX"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.closing.set()
        self.server.shutdown()
        self.server.server_close()

    @property
    def texts(self) -> list[str]:
        return [item["text"] for item in self.posts]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as running:
        yield running


@pytest.fixture
def closed_url() -> str:
    """A URL on a port nobody listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/hook"


def notice(**changes: Any) -> RunNotice:
    values: dict[str, Any] = dict(run_id="20260301-100000-outage", scenario="outage", title="Complete service outage",
                                  hosts="app_servers (limit web1)", operator="alice@ctl", incident="INC-9")
    values.update(changes)
    return RunNotice(**values)


def test_start_and_end_are_posted_as_slack_json(receiver: Receiver) -> None:
    notifier = Notifier(receiver.url, Redactor([SECRET]))
    notifier.started(notice())
    notifier.ended(notice(hosts="web1", result="ok", result_text="Succeeded (exit 0)", exit_code=0,
                          time_to_recover="12.0s (first seen down 10:00:05, healthy again 10:00:17 UTC)",
                          report="/runs/20260301-100000-outage/report.md"))
    assert notifier.sent == ["started", "ended"] and notifier.warnings == []
    start, end = receiver.posts
    assert receiver.headers[0]["Content-Type"] == "application/json"
    assert start["text"].splitlines()[0] == ":arrow_forward: runbook started *outage*: Complete service outage"
    assert "Hosts: app_servers (limit web1)" in start["text"] and "Run: 20260301-100000-outage" in start["text"]
    assert "Incident: INC-9" in start["text"] and "Run by: alice@ctl" in start["text"]
    assert "Result" not in start["text"]
    assert start["blocks"][0] == {"type": "section", "text": {"type": "mrkdwn", "text": start["text"].splitlines()[0]}}
    assert end["text"].splitlines()[0] == ":white_check_mark: runbook finished *outage*: Succeeded (exit 0)"
    for fact in ("Hosts: web1", "Result: ok (exit 0)",
                 "Time to recover: 12.0s (first seen down 10:00:05, healthy again 10:00:17 UTC)",
                 "Report: /runs/20260301-100000-outage/report.md", "Run: 20260301-100000-outage"):
        assert fact in end["text"].splitlines(), fact
    assert [element["text"] for element in end["blocks"][1]["elements"]] == end["text"].splitlines()[1:]


def test_a_failure_says_so_and_no_secret_is_posted(receiver: Receiver) -> None:
    notifier = Notifier(receiver.url, Redactor([SECRET]))
    notifier.ended(notice(title=f"Outage {SECRET}", result="failed", result_text="Failed (exit 1)", exit_code=1,
                          failed_steps=["web1: Health check", f"web1: Use token={SECRET}"],
                          incident="password=hunter2"))
    (end,) = receiver.posts
    assert end["text"].startswith(":red_circle: runbook FAILED *outage*: Failed (exit 1)")
    assert "Failed: web1: Health check; web1: Use token=" in end["text"]
    assert "Time to recover: not measured" in end["text"]
    posted = json.dumps(receiver.posts)
    assert SECRET not in posted and "hunter2" not in posted


@pytest.mark.parametrize("status", [500, 302])
def test_a_failing_webhook_is_one_warning(status: int) -> None:
    with Receiver(status=status) as failing:
        notifier = Notifier(failing.url, Redactor())
        notifier.started(notice())
        notifier.ended(notice(result="ok"))
    assert notifier.sent == []
    assert notifier.warnings == [f"runbook: warning: the notify webhook at http://127.0.0.1:{failing.server.server_address[1]} "
                                 f"answered {status}; the run goes on without it"]
    assert "T000" not in notifier.warnings[0]  # the webhook's path is a credential: never printed


def test_a_dead_webhook_returns_quickly_and_raises_nothing(closed_url: str) -> None:
    began = time.monotonic()
    problem = post(closed_url, {"text": "x"})
    assert time.monotonic() - began < 1.0
    assert problem.startswith("the notify webhook at http://127.0.0.1:") and "could not be reached" in problem


def test_a_hanging_webhook_is_given_up_after_the_timeout() -> None:
    with Receiver(delay=3.0) as slow:
        began = time.monotonic()
        problem = post(slow.url, {"text": "x"}, timeout=0.5)
        assert time.monotonic() - began < 2.0
    assert "could not be reached" in problem and "timed out" in problem


def test_only_http_and_https_urls() -> None:
    assert choose_url("https://hooks.slack.com/services/T/B/X", "http://other") == \
        ("https://hooks.slack.com/services/T/B/X", "")
    assert choose_url(None, "http://127.0.0.1:8080/hook") == ("http://127.0.0.1:8080/hook", "")
    assert choose_url("", None) == ("", "")
    for bad in ("file:///etc/passwd", "ftp://example.com/x", "hooks.slack.com/services", "http://", "http://h:99999/"):
        url, problem = choose_url(bad, None)
        assert url == "" and "not an http(s) URL" in problem, bad
    assert choose_url(None, "{{ vault_notify_url }}") == \
        ("", "runbook_notify_url is a template, not a URL; notifications are off")


def test_the_notify_url_and_contacts_come_from_the_inventory(tmp_path: Path) -> None:
    listing = {
        "_meta": {"hostvars": {"db1": {"runbook_notify_url": "http://db-hook"},
                               "web1": {"runbook_notify_url": "http://web-hook",
                                        "runbook_escalation_contacts": {"hosting": {"name": "Hetzner"}}}}},
        "app_servers": {"hosts": ["web1"]},
    }
    assert pick(listing) == {"runbook_notify_url": "http://web-hook",
                             "runbook_escalation_contacts": {"hosting": {"name": "Hetzner"}}}
    assert pick({"_meta": {"hostvars": {"x": {"runbook_notify_url": ""}}}}) == {}
    assert pick("not a listing") == {}

    inventory = tmp_path / "hosts.yml"
    inventory.write_text(textwrap.dedent("""\
        app_servers:
          hosts:
            web1:
          vars:
            runbook_notify_url: http://127.0.0.1:9/hook
        """))
    (tmp_path / "ansible.cfg").write_text("[defaults]\n")
    settings = read_settings(tmp_path, [str(inventory)])
    assert settings.problem == "" and settings.values == {"runbook_notify_url": "http://127.0.0.1:9/hook"}
    broken = read_settings(tmp_path, [str(tmp_path / "missing.yml")])
    assert broken.values == {}  # a missing inventory gives nothing (ansible-inventory may only warn)


# Through the CLI ---------------------------------------------------------------------------------


def test_a_run_posts_its_start_and_end(project: Path, runs: Path, inventory: Path, receiver: Receiver,
                                       monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("RUNBOOK_NOTIFY_URL", receiver.url)
    assert main(["run", "scenario", "-i", str(inventory), "-e", f"api_token={SECRET}", "--incident", "INC-3"]) == 0
    assert capsys.readouterr().err == ""
    folder = next(runs.iterdir())
    start, end = receiver.texts
    assert start.startswith(":arrow_forward: runbook started *scenario*: Test scenario")
    assert "Hosts: app_servers" in start and f"Run: {folder.name}" in start and "Incident: INC-3" in start
    assert end.startswith(":white_check_mark: runbook finished *scenario*: Succeeded (exit 0)")
    assert "Hosts: localhost" in end and "Result: ok (exit 0)" in end
    assert "Time to recover: not measured (no health check ran)" in end
    assert f"Report: {folder / 'report.md'}" in end
    assert SECRET not in json.dumps(receiver.posts)


def test_a_failed_run_posts_its_failure(project: Path, runs: Path, inventory: Path, receiver: Receiver,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNBOOK_NOTIFY_URL", receiver.url)
    assert main(["run", "scenario", "-i", str(inventory), "-e", "fail_step=true"]) == 1
    end = receiver.texts[-1]
    assert end.startswith(":red_circle: runbook FAILED *scenario*: Failed (exit 1)")
    assert "Failed: localhost: Fail on purpose" in end


def test_the_url_can_be_an_inventory_variable(project: Path, runs: Path, inventory: Path,
                                              receiver: Receiver, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RUNBOOK_NOTIFY_URL", raising=False)
    inventory.write_text(inventory.read_text() + f"  vars:\n    runbook_notify_url: {receiver.url}\n")
    assert main(["run", "scenario", "-i", str(inventory)]) == 0
    assert len(receiver.posts) == 2 and "runbook finished *scenario*" in receiver.texts[1]


def test_bad_input_notifies_nothing(project: Path, runs: Path, inventory: Path, receiver: Receiver,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNBOOK_NOTIFY_URL", receiver.url)
    assert main(["run", "scenario", "-i", str(inventory), "-e", "payments=maybe"]) == 2
    assert main(["run", "scenario", "-i", str(inventory), "--incident", "bad id"]) == 2
    assert receiver.posts == []


def test_a_dead_webhook_never_fails_the_run(project: Path, runs: Path, inventory: Path, closed_url: str,
                                            monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("RUNBOOK_NOTIFY_URL", closed_url)
    began = time.monotonic()
    assert main(["run", "scenario", "-i", str(inventory)]) == 0
    assert time.monotonic() - began < 20
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("runbook: warning: the notify webhook at http://127.0.0.1:")
    assert "/hook" not in err
    assert json.loads((next(runs.iterdir()) / "run.json").read_text())["result"] == "ok"


@pytest.mark.parametrize("bad", ["https://hooks.slack.com/services/T0/B0/SECRETPATH\r\nX-Injected: 1",
                                 "https://hooks.slack.com/services/T0/B0/SECRET PATH",
                                 "https://hooks.slack.com/services/T0/B0/SECRETPATH\x00"])
def test_a_url_with_blanks_or_control_characters_is_refused_without_printing_it(bad: str) -> None:
    url, problem = choose_url(bad, None)
    assert url == "" and problem == "RUNBOOK_NOTIFY_URL is not an http(s) URL; notifications are off"


def test_a_url_the_http_client_rejects_is_one_line_without_its_path() -> None:
    """http.client raises InvalidURL (not an OSError nor a ValueError) quoting the whole URL."""
    problem = post("http://127.0.0.1:9/services/T0/B0/SECRETPATH\x01x", {"text": "x"})
    assert problem.startswith("the notify webhook at http://127.0.0.1:9 could not be reached (")
    assert "SECRETPATH" not in problem and "services" not in problem


def test_any_error_becomes_one_line_without_the_url(monkeypatch: pytest.MonkeyPatch) -> None:
    url = "https://hooks.example.test/services/T0/B0/SECRETPATH?token=abc"

    def explode(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError(f"unexpected failure while posting to {url} (/services/T0/B0/SECRETPATH)")

    monkeypatch.setattr("runbook.notify._OPENER.open", explode)
    problem = post(url, {"text": "x"})
    assert problem.startswith("the notify webhook at https://hooks.example.test could not be reached (")
    assert "SECRETPATH" not in problem and "token=abc" not in problem
