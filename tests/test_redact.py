"""Secrets never stay in what a run keeps or prints."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runbook.redact import REDACTED, Redactor, looks_secret, mask

SECRET = "hunter2-correct-horse"


@pytest.mark.parametrize(
    "name",
    ["password", "db_password", "DB_PASS", "STRIPE_SECRET_KEY", "api_key", "apiToken", "GITHUB_TOKEN",
     "ssh_private_key", "dbpassword", "AUTH", "client_secret"],
)
def test_names_that_look_secret(name: str) -> None:
    assert looks_secret(name)


@pytest.mark.parametrize(
    "name",
    ["commit", "payments", "force_renewal", "passed", "bypass", "monkey", "changed", "host", "task_uuid", "stdout"],
)
def test_names_that_do_not(name: str) -> None:
    assert not looks_secret(name)


def test_mask() -> None:
    assert mask("api_token", "abc") == REDACTED
    assert mask("commit", "abc1234") == "abc1234"


def test_known_values_are_replaced_also_json_escaped() -> None:
    tricky = 'pa"ss\\word-1'
    redactor = Redactor([SECRET, tricky, "on"])  # too short values are not scrubbed
    text = f"echo {SECRET}; {json.dumps({'v': tricky})} turned on"
    cleaned = redactor.text(text)
    assert SECRET not in cleaned
    assert "ss\\\\word" not in cleaned
    assert "turned on" in cleaned


def test_env_file_lines_and_url_credentials() -> None:
    text = "NODE_ENV=production\nSTRIPE_SECRET_KEY=sk_live_abc\nexport DB_PASSWORD = p@ss w0rd\n" \
           "DATABASE_URL=postgres://app:s3cr3tpw@db:5432/app\npassword: yaml-style\n"
    cleaned = Redactor().text(text)
    assert "NODE_ENV=production" in cleaned
    assert f"STRIPE_SECRET_KEY={REDACTED}" in cleaned
    assert f"export DB_PASSWORD = {REDACTED}" in cleaned
    assert f"postgres://app:{REDACTED}@db:5432/app" in cleaned
    assert f"password: {REDACTED}" in cleaned
    for leaked in ("sk_live_abc", "p@ss", "s3cr3tpw", "yaml-style"):
        assert leaked not in cleaned


def test_data_masks_secret_keys_and_keeps_structure() -> None:
    data = {"api_key": "k-123456", "passed": True, "nested": [{"token": "t-123456", "n": 1}], "msg": f"x {SECRET}"}
    cleaned = Redactor([SECRET]).data(data)
    assert cleaned == {"api_key": REDACTED, "passed": True, "nested": [{"token": REDACTED, "n": 1}], "msg": f"x {REDACTED}"}


def test_event_drops_task_args_and_invocation() -> None:
    event = {
        "event": "runner_on_ok",
        "stdout": f"ok: [web1] => {SECRET}",
        "event_data": {
            "task_args": f"password={SECRET}",
            "res": {"invocation": {"module_args": {"x": SECRET}}, "stdout": SECRET,
                    "results": [{"invocation": {"module_args": {}}, "item": 1}]},
        },
    }
    Redactor([SECRET]).event(event)
    assert "task_args" not in event["event_data"]
    assert "invocation" not in event["event_data"]["res"]
    assert "invocation" not in event["event_data"]["res"]["results"][0]
    assert SECRET not in json.dumps(event)


def test_tree_scrubs_every_file_and_the_command_environment(tmp_path: Path) -> None:
    (tmp_path / "job_events").mkdir()
    (tmp_path / "job_events" / "1-a.json").write_text(json.dumps({"stdout": SECRET}))
    (tmp_path / "stdout").write_text(f"line {SECRET}\n")
    (tmp_path / "command").write_text(json.dumps({"command": ["ansible-playbook", "-e", SECRET],
                                                  "env": {"HOME": "/root", "AWS_SECRET": "zzzzzzzz"}}))
    untouched = tmp_path / "run.json"
    untouched.write_text('{\n  "a": 1\n}\n')
    Redactor([SECRET]).tree(tmp_path)
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert SECRET not in path.read_text(), path
    command = json.loads((tmp_path / "command").read_text())
    assert command["env"] == {"HOME": REDACTED, "AWS_SECRET": REDACTED}
    assert untouched.read_text() == '{\n  "a": 1\n}\n'
    assert oct((tmp_path / "stdout").stat().st_mode & 0o777) == "0o600"
