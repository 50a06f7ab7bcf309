# SPDX-License-Identifier: GPL-3.0-or-later
"""module_utils/runbook_signs: the guide's signs of sections 3, 6 and 8 from what a host shows. The journal, dmesg and
log lines below are the shapes a Debian 13 test host printed (OpenSSH 10 logs as sshd-session)."""

from __future__ import annotations

import json

from ansible_collections.runbook.ops.plugins.module_utils import runbook_signs as signs

NOW = 1796873600  # 2026-12-10T03:33:20Z


def _journal(epoch: float, ident: str, pid: str, message: str) -> str:
    return json.dumps({"__REALTIME_TIMESTAMP": str(int(epoch * 1e6)), "SYSLOG_IDENTIFIER": ident, "_PID": pid,
                       "MESSAGE": message})


def test_cpu_use_between_two_samples_of_proc_stat_leaves_idle_and_iowait_out() -> None:
    before = signs.cpu_times("cpu  100 0 100 700 100 0 0 0 0 0\ncpu0 50 0 50 350 50 0 0 0 0 0\n")
    after = signs.cpu_times("cpu  250 0 150 750 150 0 0 0 0 0\ncpu0 125 0 75 375 75 0 0 0 0 0\n")
    assert (before, after) == ((200, 1000), (400, 1300))
    assert signs.cpu_pct(before, after) == 66.7
    assert signs.cpu_pct(after, after) is None  # no time passed: it cannot tell
    assert signs.count_cpus("cpu  1 2 3 4\ncpu0 1 2 3 4\ncpu1 1 2 3 4\nintr 5\n") == 2


def test_load_and_memory_in_percent() -> None:
    assert signs.parse_loadavg("4.23 3.10 2.44 6/661 7906\n") == (4.23, 3.10, 2.44)
    assert signs.parse_loadavg("") is None
    assert signs.memory_pct({"total_mb": 24105, "used_mb": 2410}) == 10.0
    assert signs.memory_pct({"total_mb": 0, "used_mb": 0}) is None


def test_failed_logins_count_once_per_connection_within_the_window() -> None:
    text = "\n".join([
        _journal(NOW - 700, "sshd-session", "10", "Invalid user old from 10.0.0.9 port 1"),  # before the window
        _journal(NOW - 60, "sshd-session", "11", "Invalid user admin from 127.0.0.1 port 46884"),
        _journal(NOW - 60, "sshd-session", "11", "Failed password for invalid user admin from 127.0.0.1 port 46884 ssh2"),
        _journal(NOW - 50, "sshd-session", "12", "Connection closed by authenticating user root 127.0.0.2 port 46924 "
                                                 "[preauth]"),
        _journal(NOW - 40, "sshd-session", "13", "Accepted publickey for ops from 127.0.0.1 port 5 ssh2"),
        _journal(NOW - 30, "cron", "14", "pam_unix(cron:session): session opened for user root"),
        "not json",
    ])
    found = signs.failed_logins(signs.journal_entries(text), NOW - 600, keep=5)
    assert found["count"] == 2
    assert found["sources"] == "127.0.0.1 (1), 127.0.0.2 (1)"
    assert found["lines"][0] == "2026-12-10T03:32:20Z sshd-session: Invalid user admin from 127.0.0.1 port 46884"


def test_oom_kills_from_dmesg_and_auth_log_lines_with_an_rfc3339_time() -> None:
    dmesg = ("2026-12-10T03:30:00,916984+00:00 oom-kill:constraint=CONSTRAINT_MEMCG,task=python3,pid=19180,uid=0\n"
             "2026-12-10T03:30:00,916990+00:00 Memory cgroup out of memory: Killed process 19180 (python3) "
             "total-vm:276624kB\n"
             "2026-12-10T01:00:00,000000+00:00 Out of memory: Killed process 7 (node)\n")
    found = signs.oom_kills(signs.dmesg_entries(dmesg), NOW - 3600, keep=5)
    assert found == {"count": 1, "lines": [
        "2026-12-10T03:30:00Z kernel: Memory cgroup out of memory: Killed process 19180 (python3) total-vm:276624kB"]}
    auth = ["2026-12-10T03:33:00.123456+00:00 web-1 sshd-session[99]: Invalid user x from 10.1.1.1 port 22",
            "Dec 10 03:33:00 web-1 sshd[98]: Invalid user y from 10.1.1.2 port 22"]  # no year: not counted
    assert signs.failed_logins(signs.auth_log_entries(auth), NOW - 600, keep=1)["sources"] == "10.1.1.1 (1)"


def test_payment_errors_need_a_payment_word_an_error_and_a_time_within_the_window() -> None:
    lines = ["2026-12-10T03:00:00.5Z ERROR stripe charge failed: card_declined",  # before the window
             "2026-12-10T03:30:00.000000001Z stripe webhook received: charge.succeeded",  # no error
             "2026-12-10T03:31:00.5Z \x1b[31mpayment intent failed: Stripe API timeout\x1b[0m",
             "2026-12-10T03:32:00.5Z ERROR database check failed"]  # no payment word
    found = signs.payment_errors(lines, NOW - 1800 + 60, "stripe|payment", "error|fail|declin", keep=5)
    assert found == {"count": 1, "lines": ["2026-12-10T03:31:00Z payment intent failed: Stripe API timeout"]}


def test_env_changed_after_the_last_release_or_not_or_cannot_tell() -> None:
    ledger = [{"commit": "a" * 40, "epoch": NOW - 3600}, {"commit": "b" * 40, "time": "2026-12-10T03:00:00Z"}]
    after = signs.env_change("/app/.env", NOW - 60, ledger, NOW)
    assert (after["changed_after_release"], after["last_release_time"], after["age"]) == (
        True, "2026-12-10T03:00:00Z", 60)
    assert signs.env_change("/app/.env", NOW - 7200, ledger, NOW)["changed_after_release"] is False
    assert signs.env_change("/app/.env", NOW - 60, [], NOW)["changed_after_release"] is None
    assert signs.env_change("/app/.env", None, ledger, NOW)["error"] == "no file /app/.env"


def test_an_env_change_the_runbook_itself_made_is_explained_while_the_file_is_as_it_wrote_it() -> None:
    ledger = [{"commit": "a" * 40, "epoch": NOW - 3600}]
    own = {"path": "/app/.env", "sha256": "5" * 64, "scenario": "payments", "time": "2026-12-10T03:59:00Z"}
    as_written = signs.env_change("/app/.env", NOW - 60, ledger, NOW, own, "5" * 64)
    assert (as_written["changed_after_release"], as_written["explained_by"]) == (
        False, "the runbook's payments run at 2026-12-10T03:59:00Z")
    edited_since = signs.env_change("/app/.env", NOW - 30, ledger, NOW, own, "6" * 64)
    assert (edited_since["changed_after_release"], edited_since["explained_by"]) == (True, "")
    assert signs.env_change("/app/.env", NOW - 60, ledger, NOW, None, "")["changed_after_release"] is True
