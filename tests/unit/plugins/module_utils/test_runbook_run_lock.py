# SPDX-License-Identifier: GPL-3.0-or-later
"""The run lock's shared code (the runbook.ops collection's module_utils/runbook_run_lock.py) and the
probe's refusals (runbook_release): taking the lock in the probe's round trip only when it is
free and nobody took it since the probe read it, and never when the probe refuses. The outage's
one round trip (runbook_diagnose): the lock taken the same way, and the health check polled beside it."""

from __future__ import annotations

import json
from pathlib import Path

from ansible_collections.runbook.ops.plugins.modules import runbook_release
from loading import MODULES

ROOT = Path(__file__).resolve().parents[4]
from ansible_collections.runbook.ops.plugins.module_utils import runbook_run_lock as lock  # noqa: E402

release = runbook_release


def take(state_dir: Path, seen_seq: int) -> dict | None:
    # idle=0: the heartbeat ends at once (no process of this run exists here)
    return lock.take_if_untouched(str(state_dir), seen_seq, "abcd1234", "me@laptop", "Rollback", "RUNBOOK_RUN_TOKEN", 0)


def test_a_free_lock_is_taken_once_with_the_next_sequence_number(tmp_path: Path) -> None:
    state = tmp_path / "state"
    taken = take(state, 0)
    assert taken is not None
    assert taken["held"] and taken["token"] == "abcd1234" and taken["seq"] == 1 and taken["created_state_dir"]
    owner = json.loads((state / "run.lock" / "owner").read_text())
    assert owner["token"] == "abcd1234" and owner["owner"] == "me@laptop" and owner["scenario"] == "Rollback"
    assert (state / "run.lock.seq").read_text().strip() == "1"
    assert state.stat().st_mode & 0o777 == 0o700
    assert take(state, 1) is None  # held now: nobody else gets it
    assert json.loads((state / "run.lock" / "owner").read_text())["token"] == "abcd1234"


def test_a_lock_someone_took_and_gave_back_since_the_probe_read_it_is_not_taken(tmp_path: Path) -> None:
    (tmp_path / "run.lock.seq").write_text("3\n")
    assert take(tmp_path, 2) is None  # the probe saw 2: another run held the lock meanwhile
    assert not (tmp_path / "run.lock").exists()
    assert take(tmp_path, 3)["seq"] == 4


def found(**changes: object) -> dict:
    clean = dict(remote_error="", looked_up=False, candidate="", head="a" * 40, target_error="", dirty=[],
                 to="b" * 40, needs_fetch=False, collisions=[])
    return {**clean, **changes}


PARAMS = {"target": "v9", "repo_dir": "/srv/app", "remote": "", "accepted": "a commit SHA"}


def names(found: dict, **params: str) -> list[str]:
    return [name for name, _message in release.refusals(found, {**PARAMS, **params})]


def test_the_probe_names_its_refusals_in_the_order_a_person_checks_them() -> None:
    assert names(found()) == []
    assert names(found(dirty=["M app.py"], collisions=[".env"])) == ["dirty", "collisions"]
    assert names(found(head="", to="")) == ["no_work_tree", "no_such_commit"]
    assert names(found(looked_up=True, remote_error="no route"), remote="origin") == ["remote_error", "no_such_ref"]
    assert names(found(target_error="no earlier healthy release")) == ["target_error"]
    # a deploy whose commit only the remote has: fetched under the lock, not refused
    assert names(found(to="", looked_up=True, candidate="c" * 40, needs_fetch=True), remote="origin") == []


def test_each_refusal_is_one_line_naming_the_value_and_what_is_accepted() -> None:
    first = release.refusals(found(to=""), PARAMS)[0][1]
    assert first == 'Refused target "v9": no such commit in /srv/app; give a commit SHA that exists.'
    fetched = release.refusals(found(to=""), {**PARAMS, "remote": "origin"})[0][1]
    assert fetched == 'Refused target "v9": no such commit in /srv/app or on origin; give a commit SHA that exists.'
    dirty = release.refusals(found(dirty=[f"M f{i}" for i in range(9)]), PARAMS)[0][1]
    assert "(M f0, M f1, M f2, M f3, M f4)" in dirty and "\n" not in dirty


def test_the_probe_does_not_take_a_lock_it_cannot_write(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a directory")
    seen_free = {"read": True, "held": False, "seq": 0, "taken": False}
    assert lock.take_for_probe(str(blocked / "state"), seen_free, {"token": "abcd1234"}) == seen_free


def test_a_probe_sees_the_lock_held_when_it_was_held_or_changed_while_it_read(tmp_path: Path) -> None:
    state = str(tmp_path)
    assert lock.probe_lock(state, None) == {"read": False, "held": True, "seq": -1, "taken": False}
    before = lock.lock_state(state)
    assert lock.probe_lock(state, before) == {"read": True, "held": False, "seq": 0, "taken": False}
    take(tmp_path, 0)  # another run takes it while the probe reads
    assert lock.probe_lock(state, before)["held"] is True
    assert lock.probe_lock(state, lock.lock_state(state)) == {"read": True, "held": True, "seq": 1, "taken": False}


DIAGNOSE_MODULE = MODULES / "runbook_diagnose.py"


def run_diagnose(tmp_path: Path, check: bool = False, **args: object) -> dict:
    """The runbook_diagnose module as Ansible runs it, on this machine (what it cannot read is a note)."""
    import os
    import subprocess

    from loading import module_command

    args_file = tmp_path / "diagnose-args.json"
    args_file.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": {
        "compose_dir": str(tmp_path / "app"), "engine_service": "runbook-no-such-engine", "log_services": [],
        "proxy_error_log": str(tmp_path / "no-error.log"), "state_dir": str(tmp_path / "state"),
        "_ansible_check_mode": check, **args}}))
    proc = subprocess.run(module_command(DIAGNOSE_MODULE, args_file), capture_output=True, text=True, timeout=120,
                          env=dict(os.environ))
    return json.loads(proc.stdout)


def test_the_diagnosis_takes_a_free_lock_in_its_round_trip_and_only_then(tmp_path: Path) -> None:
    state = tmp_path / "state"
    spec = {"token": "abcd1234", "owner": "me@laptop", "scenario": "Complete service outage", "idle": 0}
    # Without lock_dir the lock is neither read nor taken.
    assert "lock" not in run_diagnose(tmp_path, take_lock=spec)
    # Under --check nothing is taken, also not the lock.
    checked = run_diagnose(tmp_path, check=True, lock_dir=str(state), take_lock=spec)
    assert checked["lock"] == {"read": True, "held": False, "seq": 0, "taken": False}
    assert not (state / "run.lock").exists()
    # Read only (no take_lock): said, not taken.
    assert run_diagnose(tmp_path, lock_dir=str(state))["lock"]["taken"] is False
    assert not (state / "run.lock").exists()
    first = run_diagnose(tmp_path, lock_dir=str(state), take_lock=spec)
    assert first["changed"] is False
    assert first["lock"]["taken"] is True and first["lock"]["held"] is True and first["lock"]["token"] == "abcd1234"
    assert first["lock"]["created_state_dir"] is True and first["lock"]["seq"] == 1
    assert json.loads((state / "run.lock" / "owner").read_text())["scenario"] == "Complete service outage"
    # A second diagnosis while the first run holds it: held, not taken (the play then waits for it).
    second = run_diagnose(tmp_path, lock_dir=str(state), take_lock=dict(spec, token="ef567890"))
    assert second["lock"] == {"read": True, "held": True, "seq": 1, "taken": False}
    assert json.loads((state / "run.lock" / "owner").read_text())["token"] == "abcd1234"


def test_the_lock_the_diagnosis_took_is_never_in_what_is_shown_or_published(tmp_path: Path) -> None:
    from ansible_collections.runbook.ops.plugins.filter import diagnose_report

    taken = run_diagnose(tmp_path, lock_dir=str(tmp_path / "state"),
                         take_lock={"token": "abcd1234", "idle": 0})
    assert taken["lock"]["token"] == "abcd1234"
    redacted = diagnose_report.diagnose_redact(taken)
    assert "lock" not in redacted and "abcd1234" not in json.dumps(redacted)


LOCK_MODULE = MODULES / "runbook_lock.py"


def run_lock(tmp_path: Path, **args: object) -> dict:
    """The runbook_lock module as Ansible runs it (a JSON args file), its JSON result."""
    import os
    import subprocess

    from loading import module_command

    args_file = tmp_path / "args.json"
    args_file.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": {"state_dir": str(tmp_path / "state"), "heartbeat": False,
                                                             **args}}))
    proc = subprocess.run(module_command(LOCK_MODULE, args_file), capture_output=True, text=True, timeout=60,
                          env=dict(os.environ))
    return json.loads(proc.stdout)


def test_a_lock_marked_rebooting_is_not_stale_until_its_deadline_and_taken_back_by_its_run(tmp_path: Path) -> None:
    """Before a reboot the run marks its lock; a second run that would call the silent lock stale
    (stale_after 0) waits and refuses naming the reboot; the same token takes it back and clears the mark."""
    assert run_lock(tmp_path, token="aaaa1111", scenario="High CPU/RAM usage")["held"]
    marked = run_lock(tmp_path, state="rebooting", token="aaaa1111", reboot_seconds=600)
    assert marked["holder"]["rebooting_until"] > 0 and "rebooting the host" in marked["msg"]
    second = run_lock(tmp_path, token="bbbb2222", stale_after=0, wait=1)
    assert second.get("failed") and not second["held"]
    assert "rebooting the host: the lock holds" in second["msg"]
    assert json.loads((tmp_path / "state" / "run.lock" / "owner").read_text())["token"] == "aaaa1111"
    stale = run_lock(tmp_path, state="released", stale_only=True, stale_after=0)
    assert not stale["released"]  # unlock-stale leaves a rebooting run's lock alone
    back = run_lock(tmp_path, token="aaaa1111", stale_after=0)
    assert back["held"] and "rebooting_until" not in back["holder"]
    owner = json.loads((tmp_path / "state" / "run.lock" / "owner").read_text())
    assert owner["token"] == "aaaa1111" and "rebooting_until" not in owner
    # Back to normal: a silent lock is stale again for a second run.
    assert run_lock(tmp_path, token="cccc3333", stale_after=0)["took_over"]["token"] == "aaaa1111"


def test_only_the_holder_marks_its_lock_rebooting(tmp_path: Path) -> None:
    assert run_lock(tmp_path, token="aaaa1111")["held"]
    refused = run_lock(tmp_path, state="rebooting", token="bbbb2222")
    assert refused.get("failed") and "not this run's" in refused["msg"]


def test_a_reboot_mark_past_its_deadline_no_longer_holds(tmp_path: Path) -> None:
    assert lock.rebooting_left({"rebooting_until": 1}) == 0
    assert lock.is_stale({"rebooting_until": 1}, 5.0, 1)
    assert not lock.is_stale({"rebooting_until": 10 ** 12}, 5.0, 1)
    assert not lock.is_stale(None, None, 1)


def test_the_diagnosis_polls_a_health_url_side_by_side_when_asked(tmp_path: Path) -> None:
    import socket

    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        url = "http://127.0.0.1:%d/health" % sock.getsockname()[1]
    assert "health_poll" not in run_diagnose(tmp_path)
    polled = run_diagnose(tmp_path, health_poll={"url": url, "timeout": 0.5, "interval": 0.1})["health_poll"]
    assert polled["status"] == -1 and polled["healthy"] is False and polled["first_status"] == -1
    assert polled["attempts"] >= 2 and 0.3 <= polled["elapsed"] <= 1.5 and "refused" in polled["msg"].lower()
    assert polled["ended_ago"] >= 0 and "ended" not in polled
