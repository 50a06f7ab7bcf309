# SPDX-License-Identifier: GPL-3.0-or-later
"""The report of a security incident carries the data protection authority's
72-hour deadline, in UTC and in the host's zone, from what security.yml
published. Driven by a recorded run (tests/data/events-security.jsonl: host
sec-1 in Europe/Berlin, `-e declared_at=2026-11-29T10:00:00Z`; see
tests/data/README.md)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from runbook import deadline
from runbook.events import is_stats, published_of
from runbook.record import RunRecord
from runbook.report import write_report

DATA = Path(__file__).parent / "data"
RUN_ID = "20261129-145945-security"


def recorded() -> list[dict[str, Any]]:
    lines = (DATA / "events-security.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def recorded_run(tmp_path: Path, published: dict[str, Any] | None = None) -> tuple[Path, RunRecord]:
    """A run folder holding the recorded events, and its record with what the run published."""
    events = recorded()
    run_dir = tmp_path / RUN_ID
    (run_dir / "job_events").mkdir(parents=True)
    for event in events:
        (run_dir / "job_events" / f"{event['counter']}-x.json").write_text(json.dumps(event))
    stats = next(event for event in events if is_stats(event))
    record = RunRecord(
        run_id=RUN_ID, scenario="security", title="Data breach or security incident", section="8", severity="P0",
        destructive=True, started="2026-11-29T14:59:45+00:00", finished="2026-11-29T15:01:01+00:00",
        duration=76.0, result="ok", exit_code=0, hosts=["sec-1"],
        command="runbook run security -i sec.yml -e declared_at=2026-11-29T10:00:00Z --incident SEC-13 --yes",
        published=published_of(stats) if published is None else published,
    )
    return run_dir, record


def section_of(report: str) -> str:
    return report.split(deadline.TITLE + "\n", 1)[1].split("\n## ", 1)[0]


def test_the_recorded_run_published_the_deadline_per_host() -> None:
    stats = next(event for event in recorded() if is_stats(event))
    (found,) = deadline.deadlines(published_of(stats))
    assert found.host == "sec-1"
    assert found.declared_utc == "2026-11-29 10:00 UTC"
    assert found.epoch == 1795946400 + 72 * 3600
    assert (found.utc, found.host_zone) == ("2026-12-02 10:00 UTC", "2026-12-02 11:00 CET")


def test_report_has_the_deadline_in_utc_and_the_hosts_zone(tmp_path: Path) -> None:
    run_dir, record = recorded_run(tmp_path)
    report = write_report(run_dir, record).read_text(encoding="utf-8")
    # In the header, right after the summary, before the timeline.
    assert report.index("## Summary") < report.index(deadline.TITLE) < report.index("## Timeline")
    text = section_of(report)
    assert ("**Notify the data protection authority before 2026-12-02 10:00 UTC** (2026-12-02 11:00 CET on sec-1): "
            "72 hours after the incident was declared (2026-11-29 10:00 UTC).") in text
    assert "| sec-1 | 2026-11-29 10:00 UTC | 2026-12-02 10:00 UTC | 2026-12-02 11:00 CET |" in text
    left = text.split("Left to humans:\n\n", 1)[1].splitlines()
    assert left[0] == "- Rotate the provider keys (database password, Supabase API keys, Stripe secret key, mail)"
    assert any("data protection authority" in line and "2026-12-02 10:00 UTC" in line for line in left)
    assert "- firewall locked (SSH allowed)" in text.split("Left to humans:")[0]
    # Shown once, as a section: not again as a JSON blob among the published values.
    assert "| `security` |" not in report


def test_rewriting_the_report_keeps_the_section_and_what_people_wrote(tmp_path: Path) -> None:
    run_dir, record = recorded_run(tmp_path)
    path = write_report(run_dir, record)
    edited = path.read_text(encoding="utf-8").replace("## Root Cause\n", "## Root Cause\n\nA leaked deploy key.\n")
    path.write_text(edited, encoding="utf-8")
    again = write_report(run_dir, record)
    assert again == path
    text = again.read_text(encoding="utf-8")
    assert "A leaked deploy key." in text and text.count(deadline.TITLE) == 1


def test_earliest_deadline_first_over_hosts_in_other_zones(tmp_path: Path) -> None:
    stats = next(event for event in recorded() if is_stats(event))
    entry = published_of(stats)["security"]["sec-1"]
    later = copy.deepcopy(entry) | {"authority_deadline_epoch": entry["authority_deadline_epoch"] + 3600,
                                    "authority_deadline_utc": "2026-12-02 11:00 UTC",
                                    "authority_deadline_host": "2026-12-02 06:00 EST"}
    run_dir, record = recorded_run(tmp_path, {"security": {"a-later": later, "sec-1": entry}})
    text = section_of(write_report(run_dir, record).read_text(encoding="utf-8"))
    assert "before 2026-12-02 10:00 UTC** (2026-12-02 11:00 CET on sec-1)" in text
    rows = [line for line in text.splitlines() if line.startswith("| ") and "UTC |" in line]
    assert [row.split(" | ")[0] for row in rows] == ["| sec-1", "| a-later"]
    assert rows[1].endswith("| 2026-12-02 11:00 UTC | 2026-12-02 06:00 EST |")


def test_a_run_recorded_before_the_values_were_per_host(tmp_path: Path) -> None:
    flat = {"declared_at_epoch": 1795946400, "authority_deadline_utc": "2026-12-02 10:00 UTC",
            "authority_deadline_host": "2026-12-02 11:00 CET", "done": [], "left_to_humans": []}
    run_dir, record = recorded_run(tmp_path, {"security": flat})
    text = section_of(write_report(run_dir, record).read_text(encoding="utf-8"))
    assert "| all hosts | unknown | 2026-12-02 10:00 UTC | 2026-12-02 11:00 CET |" in text


def test_no_section_when_no_deadline_was_published(tmp_path: Path) -> None:
    run_dir, record = recorded_run(tmp_path, {"security": {"sec-1": {"done": ["stack taken down"]}}, "x": 1})
    report = write_report(run_dir, record).read_text(encoding="utf-8")
    assert deadline.TITLE not in report
    assert "| `security` |" in report  # what was published stays visible among the values
