# SPDX-License-Identifier: GPL-3.0-or-later
"""module_utils/runbook_ledger: one reader and one writer of the release ledger."""

from __future__ import annotations

import json

from ansible_collections.runbook.ops.plugins.module_utils.runbook_ledger import (
    append_ledger, is_full_sha, last_env_write, last_good, parse_ledger, read_ledger, record_release)

A = "a" * 40
B = "b" * 40
C = "c" * 40


def test_only_objects_with_a_full_commit_sha_count():
    lines = [json.dumps({"commit": A}), "not json", json.dumps(["list"]), json.dumps({"commit": "abc1234"}),
             json.dumps({"commit": "HEAD~1"}), json.dumps({"commit": ""}), json.dumps({"commit": "f" * 64})]
    assert [entry["commit"] for entry in parse_ledger(lines)] == [A, "f" * 64]
    assert is_full_sha(A.upper()) and not is_full_sha("a" * 39) and not is_full_sha(None)


def test_append_keeps_the_last_entries_and_the_file_private(tmp_path):
    for commit in (A, B, C):
        append_ledger(str(tmp_path), commit, "Rollback", "passed the health gate", 2)
    error, entries = read_ledger(str(tmp_path))
    assert error == "" and [entry["commit"] for entry in entries] == [B, C]
    assert set(entries[-1]) == {"commit", "time", "epoch", "scenario", "source"}
    assert (tmp_path / "releases.jsonl").stat().st_mode & 0o777 == 0o600


def test_a_missing_ledger_says_so(tmp_path):
    assert read_ledger(str(tmp_path)) == ("no release ledger at %s/releases.jsonl" % tmp_path, [])


def test_last_good_skips_the_running_release_and_what_a_rollback_left():
    entries = [{"commit": A}, {"commit": B}, {"commit": A, "rolled_back_from": B}]
    assert last_good(entries, A) == ""
    assert last_good([{"commit": A}, {"commit": B}], B) == A


def test_record_release_writes_once_and_keeps_only_a_real_step_back(tmp_path):
    state = str(tmp_path)
    first = record_release(state, A, "Rollback", "passed the health gate", 10, B, lambda commit, left: True)
    assert first["commit"] == A and first["rolled_back_from"] == B
    # The ledger's last already: nothing written (a rerun, or the lock's release after the role's own record).
    assert record_release(state, A, "Rollback", "passed the health gate", 10) is None
    # "Back" to a commit that is not an ancestor of the one left is a roll forward: no rolled_back_from.
    forward = record_release(state, C, "Rollback", "passed the health gate", 10, A, lambda commit, left: False)
    assert "rolled_back_from" not in forward
    assert [entry["commit"] for entry in read_ledger(state)[1]] == [A, C]


def test_the_last_own_write_of_env_is_the_last_valid_line_for_that_file_its_path_resolved(tmp_path):
    app = tmp_path / "app"
    app.mkdir()
    (tmp_path / "link").symlink_to(app)
    env = str(app / ".env")
    state = tmp_path / "state"
    assert last_env_write(str(state), env) is None  # no state dir, no file
    state.mkdir()
    lines = [{"path": env, "sha256": "1" * 64, "scenario": "payments"},
             {"path": str(tmp_path / "other" / ".env"), "sha256": "2" * 64},
             {"path": env, "sha256": "not-a-digest"}, "torn {",
             {"path": str(tmp_path / "link" / ".env"), "sha256": "3" * 64, "scenario": "security"}]
    (state / "env-writes.jsonl").write_text(
        "".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines))
    assert last_env_write(str(state), env)["sha256"] == "3" * 64  # written through the symlinked directory
    assert last_env_write(str(state), str(tmp_path / "other" / ".env"))["sha256"] == "2" * 64
    assert last_env_write(str(state), str(tmp_path / "nowhere" / ".env")) is None
