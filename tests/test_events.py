# SPDX-License-Identifier: GPL-3.0-or-later
"""What the live progress and the report take from single runner events."""

import pytest

from runbook.events import action_of, debug_note, task_result, worth_showing


def _event(name: str, task: str, action: str, res: dict, role: str | None = None) -> dict:
    return {"event": name, "counter": 1, "created": "2026-11-29T01:00:00.000000",
            "event_data": {"host": "h1", "task": task, "task_action": action, "resolved_action": action,
                           "role": role, "play": "p", "res": res,
                           "start": "2026-11-29T01:00:00.000000", "end": "2026-11-29T01:00:02.500000"}}


def test_debug_message_becomes_a_note_line_per_item():
    event = _event("runner_on_ok", "Show the diagnosis", "ansible.builtin.debug",
                   {"msg": ["Docker engine: active", ["Filesystem Size", "/dev/vda 252G"]]})
    result = task_result(event)
    assert result is not None
    assert result.note.splitlines() == ["Docker engine: active", "Filesystem Size", "/dev/vda 252G"]
    assert result.duration == 2.5


def test_other_modules_carry_no_note():
    event = _event("runner_on_ok", "Start nginx", "ansible.builtin.systemd_service",
                   {"changed": True, "msg": "started"})
    result = task_result(event)
    assert result is not None and result.status == "changed" and result.note == ""


def test_argument_validation_counts_only_when_it_fails_or_is_asked_for():
    task = "Validating arguments against arg spec 'main' - Poll a health URL"
    passed = _event("runner_on_ok", task, "ansible.builtin.validate_argument_spec", {}, role="health_check")
    assert task_result(passed) is None
    assert task_result(passed, argument_checks=True) is not None
    failed = _event("runner_on_failed", task, "ansible.builtin.validate_argument_spec",
                    {"msg": "missing required arguments: health_check_url"}, role="health_check")
    result = task_result(failed)
    assert result is not None and result.status == "failed" and worth_showing(result)


def test_the_action_is_read_from_the_event_without_the_builtin_prefix():
    assert action_of({"resolved_action": "ansible.builtin.set_fact", "task_action": "set_fact"}) == "set_fact"
    assert action_of({"task_action": "ansible.legacy.debug"}) == "debug"
    assert action_of({"resolved_action": "community.docker.docker_compose_v2"}) == "community.docker.docker_compose_v2"
    assert action_of({}) == ""


# (event, action, role, result) -> shown by the quiet progress? The task name never matters.
@pytest.mark.parametrize(("name", "action", "role", "res", "shown"), [
    ("runner_on_ok", "community.docker.docker_compose_v2", None, {"changed": True}, True),
    ("runner_on_ok", "ansible.builtin.command", "diagnose", {"changed": False}, False),
    ("runner_on_ok", "ansible.builtin.debug", "diagnose", {"msg": "Docker engine: active"}, True),
    ("runner_on_ok", "ansible.builtin.debug", "health_check", {"msg": "GET /health answered 200"}, True),
    ("runner_on_ok", "ansible.builtin.debug", None, {"censored": "the output has been hidden"}, False),
    ("runner_on_skipped", "ansible.builtin.debug", "health_check", {"skipped": True}, False),
    ("runner_on_skipped", "ansible.builtin.systemd_service", None, {"skipped": True}, False),
    ("runner_on_ok", "ansible.builtin.set_fact", None, {"changed": True}, False),
    ("runner_on_ok", "ansible.builtin.set_stats", None, {"changed": False}, False),
    ("runner_on_ok", "ansible.builtin.include_role", None, {}, False),
    ("runner_on_ok", "ansible.builtin.include_tasks", None, {}, False),
    ("runner_on_ok", "ansible.builtin.meta", "runbook_common", {}, False),
    ("runner_on_ok", "runbook_lock", "runbook_lock", {"changed": True}, False),
    ("runner_on_failed", "runbook_lock", "runbook_lock", {"msg": "held by another run"}, True),
    ("runner_on_failed", "ansible.builtin.set_fact", None, {"msg": "undefined variable"}, True),
    ("runner_on_unreachable", "ansible.builtin.include_role", None, {"msg": "ssh: no route"}, True),
])
def test_what_the_quiet_progress_shows_is_decided_from_event_fields(name, action, role, res, shown):
    result = task_result(_event(name, "Any name at all", action, res, role=role), argument_checks=True)
    assert result is not None
    assert worth_showing(result) is shown


def test_debug_note_of_a_plain_string():
    assert debug_note({"msg": "after restart: healthy"}) == "after restart: healthy"
    assert debug_note({}) == ""
