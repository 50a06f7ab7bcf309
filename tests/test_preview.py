# SPDX-License-Identifier: GPL-3.0-or-later
"""runbook.preview: the confirmation's per-host lines, from ansible-runner events as they come
(the shapes of runner_on_ok/failed/unreachable events; tests/integration/test_rollback_prompt.py
runs the real probe)."""

from __future__ import annotations

from typing import Any

from runbook.preview import PROBE_ACTION, HostPreview, from_event

A, B = "a" * 40, "b" * 40


def event(kind: str, host: str, res: dict[str, Any], action: str = PROBE_ACTION, task: str = "Probe") -> dict[str, Any]:
    return {"event": kind, "event_data": {"host": host, "task": task, "play": "Runbook 7", "resolved_action": action,
                                          "res": res}}


def test_the_probe_names_from_and_to_per_host() -> None:
    found: dict[str, HostPreview] = {}
    from_event(event("runner_on_ok", "web1", {"origin": A, "origin_source": "running containers (healthy)",
                                              "to": B, "target": "last-good", "target_note": ""}), found)
    assert found["web1"].line() == f"web1: {A[:12]} (running) -> {B[:12]} (last-good)"
    from_event(event("runner_on_ok", "web2", {"origin": A, "origin_source": "work tree HEAD (healthy; ...)", "to": A,
                                              "target": "tag v1"}), found)
    assert found["web2"].line() == f"web2: {A[:12]} (running) -> no change (already the target)"


def test_a_host_the_probe_cannot_read_is_said_as_such() -> None:
    found: dict[str, HostPreview] = {}
    from_event(event("runner_on_unreachable", "web3", {"msg": "ssh: connect to host web3 port 22:\nrefused"}), found)
    assert found["web3"].line() == "web3: the probe cannot reach it (ssh: connect to host web3 port 22: refused)"
    from_event(event("runner_on_failed", "web4", {"msg": "Refused target \"v9\": no tag v9", "refused": ["target_error"]}),
               found)
    assert found["web4"].line() == 'web4: refused: Refused target "v9": no tag v9'
    from_event(event("runner_on_failed", "web5", {"msg": "boom"}, task="Find the release"), found)
    assert found["web5"].line() == "web5: could not be probed (Find the release: boom)"


def test_other_tasks_do_not_count_as_the_probe() -> None:
    found: dict[str, HostPreview] = {}
    from_event(event("runner_on_ok", "web1", {"origin": A, "to": B}, action="ansible.builtin.debug"), found)
    from_event({"event": "playbook_on_stats", "event_data": {}}, found)
    assert list(found) == ["web1"]
    assert found["web1"].line() == "web1: the probe said nothing about its release (from -> to unknown)"
