# SPDX-License-Identifier: GPL-3.0-or-later
"""One definition of the published diagnosis (runbook.diagnosis): the filter builds it, the report reads it."""

from __future__ import annotations

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
