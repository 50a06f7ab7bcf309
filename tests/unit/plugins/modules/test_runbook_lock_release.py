# SPDX-License-Identifier: GPL-3.0-or-later
"""runbook_lock's release with a ledger entry (runbook_lock record=): the lock goes back even when
the entry cannot be written (a full disk, a state directory that is not one), and the run is told.
The real module, run by Ansible on this machine (connection local) against a temporary state dir."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parents[4]
ANSIBLE = str(Path(sys.executable).with_name("ansible"))
SHA = "0123456789abcdef0123456789abcdef01234567"


def lock(state_dir: Path, **args: Any) -> dict[str, Any]:
    """One runbook_lock call; its JSON result for localhost."""
    params = {"state_dir": str(state_dir), "heartbeat": False, "wait": 1, **args}
    env = dict(os.environ, ANSIBLE_LOAD_CALLBACK_PLUGINS="1", ANSIBLE_STDOUT_CALLBACK="ansible.posix.json")
    done = subprocess.run([ANSIBLE, "localhost", "-c", "local", "-m", "runbook.ops.runbook_lock", "-a",
                           json.dumps(params)], cwd=PROJECT, env=env, text=True, capture_output=True, timeout=120)
    assert done.stdout.startswith("{"), done.stdout[-2000:] + done.stderr[-2000:]
    out = json.loads(done.stdout)
    return out["plays"][0]["tasks"][0]["hosts"]["localhost"]


def test_the_lock_goes_back_when_the_ledger_entry_cannot_be_written(tmp_path: Path) -> None:
    state = tmp_path / "state"
    taken = lock(state, state="acquired", token="aaaa1111")
    assert taken.get("held") is True, taken
    not_a_dir = tmp_path / "ledger-dir-is-a-file"
    not_a_dir.write_text("")
    released = lock(state, state="released", token="aaaa1111",
                    record={"state_dir": str(not_a_dir), "commit": SHA, "scenario": "rollback"})
    assert released.get("failed") is True
    assert "the release ledger was not written" in released["msg"]
    assert "the run lock was given back" in released["msg"]
    # another run takes the lock at once: it was given back
    again = lock(state, state="acquired", token="bbbb2222")
    assert again.get("held") is True and not again.get("took_over"), again


def test_a_short_commit_is_refused_for_the_ledger_and_the_lock_still_goes_back(tmp_path: Path) -> None:
    state = tmp_path / "state"
    assert lock(state, state="acquired", token="aaaa1111").get("held") is True
    released = lock(state, state="released", token="aaaa1111",
                    record={"state_dir": str(state), "commit": "abc1234", "scenario": "rollback"})
    assert released.get("failed") is True and "full commit SHA" in released["msg"]
    assert lock(state, state="acquired", token="bbbb2222").get("held") is True
