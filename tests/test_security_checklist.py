# SPDX-License-Identifier: GPL-3.0-or-later
"""The security incident's checklist, run for real on this machine: the data
protection authority deadline is declared_at + 72 hours, in UTC and the host's
zone, and the checklist names what is left to humans."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PLAY = """
- hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - ansible.builtin.include_role:
        name: security_incident
        tasks_from: checklist
      vars:
        security_incident_declared_at: "{declared}"
    - ansible.builtin.copy:
        content: "{{{{ security_incident_checklist | to_json }}}}"
        dest: "{out}"
"""
CALLBACK = """
from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "keep_stats"
    CALLBACK_NEEDS_ENABLED = True

    def v2_playbook_on_stats(self, stats):
        import json
        with open("{out}", "w") as handle:
            json.dump(stats.custom, handle)
"""


def run_checklist(tmp_path: Path, declared: str, tz: str) -> tuple[dict, dict]:
    """(the checklist fact, what set_stats published) of one run on localhost."""
    out, stats = tmp_path / "checklist.json", tmp_path / "stats.json"
    play = tmp_path / "play.yml"
    play.write_text(PLAY.format(declared=declared, out=out), encoding="utf-8")
    (tmp_path / "callbacks").mkdir()
    (tmp_path / "callbacks" / "keep_stats.py").write_text(CALLBACK.format(out=stats), encoding="utf-8")
    env = {**os.environ, "TZ": tz, "ANSIBLE_ROLES_PATH": str(ROOT / "roles"),
           "ANSIBLE_CALLBACK_PLUGINS": str(tmp_path / "callbacks"), "ANSIBLE_CALLBACKS_ENABLED": "keep_stats"}
    subprocess.run([str(Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,",
                    "-e", f"ansible_python_interpreter={sys.executable}", str(play)],
                   check=True, capture_output=True, env=env, cwd=tmp_path)
    return json.loads(out.read_text(encoding="utf-8")), json.loads(stats.read_text(encoding="utf-8"))


def test_deadline_is_72_hours_after_declaration_in_utc_and_host_zone(tmp_path: Path) -> None:
    checklist, stats = run_checklist(tmp_path, "2026-11-29T10:00:00Z", "Europe/Berlin")
    assert checklist["declared_at_epoch"] == 1795946400
    assert checklist["declared_at_utc"] == "2026-11-29 10:00 UTC"
    assert checklist["deadline_hours"] == 72
    assert checklist["authority_deadline_epoch"] == 1795946400 + 72 * 3600
    assert checklist["authority_deadline_utc"] == "2026-12-02 10:00 UTC"
    assert checklist["authority_deadline_host"] == "2026-12-02 11:00 CET"
    humans = "\n".join(checklist["left_to_humans"])
    assert "Rotate the provider keys" in humans
    assert "before 2026-12-02 10:00 UTC (2026-12-02 11:00 CET)" in humans
    # Published per host for the incident report's "Data protection deadline".
    assert stats["_run"]["security"] == {"localhost": checklist}


def test_deadline_follows_the_hosts_zone_across_daylight_saving(tmp_path: Path) -> None:
    checklist, _ = run_checklist(tmp_path, "2026-03-27T09:30:00Z", "Europe/Berlin")
    assert checklist["authority_deadline_utc"] == "2026-03-30 09:30 UTC"
    assert checklist["authority_deadline_host"] == "2026-03-30 11:30 CEST"


SESSIONS_PLAY = """
- hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - ansible.builtin.include_role:
        name: security_incident
        tasks_from: sessions
      vars:
        security_incident_sessions_command: "{command}"
        security_incident_compose_dir: "{cwd}"
    - ansible.builtin.include_role:
        name: security_incident
        tasks_from: checklist
    - ansible.builtin.copy:
        content: "{{{{ {{'checklist': security_incident_checklist, 'failed': security_incident_sessions_failed}} | to_json }}}}"
        dest: "{out}"
"""


def test_a_failing_sessions_command_keeps_the_checklist_and_never_shows_its_text(tmp_path: Path) -> None:
    # A command that carries a password and fails (exit 3), as `redis-cli -a PW` would when redis is down.
    password = "Sessions-PW-0a1b2c3d4e5f"
    command = f"sh -c 'exit 3' redis-cli -a {password}"
    out, stats = tmp_path / "result.json", tmp_path / "stats.json"
    play = tmp_path / "play.yml"
    play.write_text(SESSIONS_PLAY.format(command=command, cwd=tmp_path, out=out), encoding="utf-8")
    (tmp_path / "callbacks").mkdir()
    (tmp_path / "callbacks" / "keep_stats.py").write_text(CALLBACK.format(out=stats), encoding="utf-8")
    env = {**os.environ, "ANSIBLE_ROLES_PATH": str(ROOT / "roles"),
           "ANSIBLE_CALLBACK_PLUGINS": str(tmp_path / "callbacks"), "ANSIBLE_CALLBACKS_ENABLED": "keep_stats"}
    run = subprocess.run([str(Path(sys.executable).parent / "ansible-playbook"), "-v", "-i", "localhost,",
                          "-e", f"ansible_python_interpreter={sys.executable}", str(play)],
                         check=True, capture_output=True, text=True, env=env, cwd=tmp_path)
    result = json.loads(out.read_text(encoding="utf-8"))
    assert result["failed"] is True
    (note,) = [line for line in result["checklist"]["done"] if line.startswith("Sessions")]
    assert note.startswith("Sessions NOT invalidated: sessions_command failed (exit 3)")
    assert any("data protection authority" in line for line in result["checklist"]["left_to_humans"])
    published = json.dumps(json.loads(stats.read_text(encoding="utf-8")))
    for text in (run.stdout + run.stderr, published):
        assert password not in text and "redis-cli" not in text
