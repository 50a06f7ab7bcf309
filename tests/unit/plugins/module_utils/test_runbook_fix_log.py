# SPDX-License-Identifier: GPL-3.0-or-later
"""module_utils/runbook_fix_log: the triage circuit breaker's window on the host's clock, and its fix log."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ansible_collections.runbook.ops.plugins.module_utils import runbook_fix_log as fix_log

NOW = 1_796_580_000
HOUR = 3600


def entry(minutes_ago: float, scenario: str = "outage") -> dict[str, Any]:
    return {"epoch": int(NOW - minutes_ago * 60), "scenario": scenario}


def test_three_fixes_within_the_hour_trip_the_breaker_and_older_ones_or_other_scenarios_do_not_count() -> None:
    entries = [entry(61), entry(50), entry(20, "disk"), entry(5)]
    assert fix_log.decide(entries, "outage", NOW, HOUR, 3) == (True, [entry(50), entry(5)])
    allowed, found = fix_log.decide([*entries, entry(1)], "outage", NOW, HOUR, 3)
    assert not allowed and found == [entry(50), entry(5), entry(1)]
    assert fix_log.decide([*entries, entry(1)], "disk", NOW, HOUR, 3)[0]


def test_the_window_is_open_at_its_far_end_and_a_fix_in_the_future_counts() -> None:
    exactly = {"epoch": NOW - HOUR, "scenario": "outage"}
    assert fix_log.recent([exactly], "outage", NOW, HOUR) == []
    just_inside = {"epoch": NOW - HOUR + 1, "scenario": "outage"}
    assert fix_log.recent([just_inside], "outage", NOW, HOUR) == [just_inside]
    # the host's clock was set back after a fix: the fix still counts, the breaker never opens by a clock step
    ahead = {"epoch": NOW + 600, "scenario": "outage"}
    assert fix_log.recent([ahead], "outage", NOW, HOUR) == [ahead]


def test_torn_or_foreign_lines_are_skipped() -> None:
    lines = ['{"epoch": 1796579000, "scenario": "outage"}', '{"epoch": 17965', "[]", '{"epoch": "1", "scenario": "x"}',
             '{"epoch": true, "scenario": "outage"}', '{"epoch": 1796579001}']
    assert fix_log.parse_log(lines) == [{"epoch": 1796579000, "scenario": "outage"}]


def test_record_fix_appends_until_the_limit_then_refuses_and_writes_nothing(tmp_path: Path) -> None:
    state = str(tmp_path / "state")
    for number in range(3):
        allowed, found, written = fix_log.record_fix(state, "outage", NOW + number, HOUR, 3, "ops@a", "t1")
        assert allowed and len(found) == number and written is not None and written["epoch"] == NOW + number
    allowed, found, written = fix_log.record_fix(state, "outage", NOW + 10, HOUR, 3, "ops@b", "t2")
    assert not allowed and len(found) == 3 and written is None
    # check mode decides without writing
    assert fix_log.record_fix(state, "disk", NOW, HOUR, 3, "ops@a", "t3", write=False)[2] is None
    lines = Path(fix_log.log_path(state)).read_text().splitlines()
    assert [json.loads(line)["scenario"] for line in lines] == ["outage"] * 3
    assert json.loads(lines[0])["time"] == "2026-12-06T18:00:00Z"
    assert os.stat(fix_log.log_path(state)).st_mode & 0o777 == 0o600
