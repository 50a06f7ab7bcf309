# SPDX-License-Identifier: GPL-3.0-or-later
"""One definition of the published diagnosis (runbook.diagnosis): the filter builds it, the report reads it."""

from __future__ import annotations

import json
from pathlib import Path

from ansible_collections.runbook.ops.plugins.filter import diagnose_report

from runbook import diagnosis
from runbook.report import evidence

report_filters = diagnose_report

ROW = {"name": "api", "state": "running", "since": "2026-03-01T10:00:00Z", "restarts": 0, "health": "healthy",
       "mount": "/", "size": "10G", "used": "9G", "avail": "1G", "use_pct": 90, "pid": 1, "user": "root",
       "cpu": 1.0, "mem": 2.0, "command": "node", "extra": "not published"}


def test_the_filter_publishes_exactly_the_schemas_fields() -> None:
    found = {key: [ROW] for key in ("containers", "services", "disk", "top_cpu", "top_mem")}
    found["memory"] = {"total_mb": 1, "used_mb": 1, "available_mb": 0, "swap_used_mb": 0, "cached_mb": 9}
    data = report_filters.diagnose_data(found)
    assert set(data) == set(diagnosis.KEYS)
    for key in ("containers", "services", "disk", "top_cpu", "top_mem", "memory"):
        rows = data[key] if isinstance(data[key], list) else [data[key]]
        assert all(tuple(row) == diagnosis.published(key) for row in rows), key


def test_the_report_shows_every_table_of_the_schema() -> None:
    published = {key: [ROW] for _, key, _ in diagnosis.TABLES}
    published["checks"] = [{"check": "disk", "result": "90% used"}]
    text = "\n".join(evidence({"diagnosis": {"web1": published}}))
    for title, _, columns in diagnosis.TABLES:
        assert f"{title}:" in text
        assert "| " + " | ".join(heading for heading, _ in columns) + " |" in text


def test_the_signs_close_the_guides_lines_in_three_lines() -> None:
    """A diagnosis recorded on a test host after its .env was touched (tests/data/README.md)."""
    recorded = json.loads((Path(__file__).resolve().parents[3] / "data" / "diagnosis-env-changed.json").read_text())
    checks = report_filters.guide_checks({"guide": recorded["guide"]})
    assert [check for check, _ in checks[-3:]] == ["Memory and CPU", "Payment errors", "Signs of compromise"]
    assert checks[-1][1] == (".env changed 10s ago, AFTER the last recorded release (2026-12-06 18:37:42Z); 13 failed "
                             "SSH logins in the last 10 min (the journal since 2026-12-06T17:39:01Z), from 127.0.0.1 "
                             "(13): a BURST (limit 10)")
    assert checks[-2][1] == "0 payment error lines in the last 30 min (last 500 log lines of backend-api-1)"
    # a diagnosis without the signs (an older one) has none of these lines
    del recorded["guide"]["oom"]
    assert [check for check, _ in report_filters.guide_checks({"guide": recorded["guide"]})][-1] == "Docker disk"
