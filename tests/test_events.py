"""What the live progress and the report take from single runner events."""

from runbook.events import debug_note, is_noise, task_result


def _event(name: str, task: str, action: str, res: dict) -> dict:
    return {"event": name, "counter": 1, "created": "2026-11-29T01:00:00.000000",
            "event_data": {"host": "h1", "task": task, "task_action": action, "play": "p", "res": res,
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


def test_argument_validation_is_not_a_runbook_step():
    task = "Validating arguments against arg spec 'main' - Poll a health URL"
    assert is_noise(task)
    assert task_result(_event("runner_on_ok", task, "ansible.builtin.validate_argument_spec", {})) is None
    assert not is_noise("Poll the health check until it answers 200")


def test_debug_note_of_a_plain_string():
    assert debug_note({"msg": "after restart: healthy"}) == "after restart: healthy"
    assert debug_note({}) == ""
