# SPDX-License-Identifier: GPL-3.0-or-later
"""Turn a kept run's job events into a compact JSON-lines fixture for tests/test_progress.py.

    .venv/bin/python tests/data/compact_events.py RUN_DIR tests/data/NAME.jsonl

Keeps the events the live progress reads (plays, task starts, host results,
retries, stats) with their real field values, and drops what it never reads:
runner's stdout, `verbose` lines, and the bulky parts of module results
(container lists, command output of steps that went well). How the recorded
runs were made: tests/data/README.md.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "src"))

from runbook.events import read_events  # noqa: E402

KEPT_EVENTS = {
    "playbook_on_start", "playbook_on_play_start", "playbook_on_task_start", "playbook_on_handler_task_start",
    "runner_on_ok", "runner_on_failed", "runner_on_skipped", "runner_on_unreachable", "runner_on_async_ok",
    "runner_on_async_failed", "runner_retry", "playbook_on_stats",
}
DATA_KEYS = ("play", "name", "task", "task_action", "resolved_action", "role", "host", "start", "end",
             "ignore_errors", "ok", "changed", "failures", "dark", "skipped", "rescued", "ignored", "processed",
             "artifact_data")
RESULT_KEYS = ("changed", "failed", "skipped", "unreachable", "censored", "msg", "attempts", "retries", "rc",
               "skip_reason", "false_condition", "_ansible_no_log")
FAILURE_KEYS = ("stderr", "stdout")  # kept only where a step failed: they explain it


def compact(event: dict[str, Any]) -> dict[str, Any]:
    data = event.get("event_data") or {}
    kept = {key: data[key] for key in DATA_KEYS if key in data}
    res = data.get("res")
    if isinstance(res, dict):
        keys = RESULT_KEYS + (FAILURE_KEYS if event["event"] in ("runner_on_failed", "runner_on_unreachable") else ())
        kept["res"] = {key: res[key] for key in keys if key in res}
    return {"event": event["event"], "counter": event["counter"], "created": event.get("created"),
            "event_data": kept}


def main(run_dir: str, target: str) -> None:
    events = [compact(event) for event in read_events(Path(run_dir)) if event.get("event") in KEPT_EVENTS]
    with open(target, "w", encoding="utf-8") as out:
        for event in events:
            out.write(json.dumps(event, ensure_ascii=False, sort_keys=True) + "\n")
    print(f"{target}: {len(events)} events")


if __name__ == "__main__":
    main(*sys.argv[1:3])
