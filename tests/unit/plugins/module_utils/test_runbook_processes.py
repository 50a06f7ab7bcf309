# SPDX-License-Identifier: GPL-3.0-or-later
"""module_utils/runbook_processes: one ps parser, one set of keys."""

from __future__ import annotations

from ansible_collections.runbook.ops.plugins.module_utils.runbook_processes import COMMAND_WIDTH, PS_FORMAT, parse_ps, top

PS = """\
      1 root      0.3  0.0 14280 /lib/systemd/systemd
    200 app      50.0  2.0 90000 python3 -u /app/app.py
    300 app       1.0  2.0 95000 python3 worker.py
    400 root      0.0  0.0  3000 /usr/bin/timeout -k 5 30 /usr/bin/ps -eo %s
    401 root      0.0  0.0  3000 /usr/bin/ps -eo %s
    500 root      0.0  0.0     0 [kworker/0:1]
""" % (PS_FORMAT, PS_FORMAT)


def test_keys_and_the_ps_call_itself_left_out():
    rows = parse_ps(PS, skip={500})
    assert [row["pid"] for row in rows] == [1, 200, 300]
    assert rows[1] == {"pid": 200, "user": "app", "cpu": 50.0, "mem": 2.0, "rss_kb": 90000,
                       "command": "python3 -u /app/app.py"}


def test_top_by_cpu_and_by_memory_ties_to_the_larger_resident_set():
    rows = parse_ps(PS)
    assert [row["pid"] for row in top(rows, "cpu", 2)] == [200, 300]
    assert [row["pid"] for row in top(rows, "mem", 2)] == [300, 200]


def test_long_commands_are_cut_to_a_line():
    row = parse_ps("7 root 0.0 0.0 1 " + "x" * 200)[0]
    assert len(row["command"]) == COMMAND_WIDTH and row["command"].endswith("...")
