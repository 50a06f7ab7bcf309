# SPDX-License-Identifier: GPL-3.0-or-later
"""The resources_relief role's module (runbook_resources) and filter: docker
stats and ps parsed as the test host prints them, averages over samples so one
instant never decides a restart, and the limits that pick the container."""

from __future__ import annotations

import json
from pathlib import Path

from ansible_collections.runbook.ops.plugins.filter import resources_relief_lines
from ansible_collections.runbook.ops.plugins.modules import runbook_resources

ROLE = Path(__file__).resolve().parents[4] / "roles" / "resources_relief"


res = runbook_resources
lines = resources_relief_lines

# docker stats --no-stream --format json on a test host (Docker 26), api holding 217 MiB of a 256 MiB limit.
STATS = [
    '{"BlockIO":"0B / 0B","CPUPerc":"65.12%","Container":"882945709c0b","ID":"882945709c0b","MemPerc":"84.72%",'
    '"MemUsage":"216.9MiB / 256MiB","Name":"backend-api-1","NetIO":"0B / 0B","PIDs":"3"}\n'
    '{"BlockIO":"0B / 0B","CPUPerc":"0.00%","Container":"0e06770ebd1b","ID":"0e06770ebd1b","MemPerc":"0.02%",'
    '"MemUsage":"4.168MiB / 23.54GiB","Name":"backend-worker-1","NetIO":"0B / 0B","PIDs":"1"}\n',
    '{"CPUPerc":"33.00%","ID":"882945709c0b","MemPerc":"84.80%","MemUsage":"217.1MiB / 256MiB","Name":"backend-api-1"}\n'
    '{"CPUPerc":"--","ID":"0e06770ebd1b","MemPerc":"--","MemUsage":"0B / 0B","Name":"backend-worker-1"}\n',
]
PS = json.dumps({"ID": "882945709c0b", "Service": "api"}) + "\n" + json.dumps({"ID": "0e06770ebd1b", "Service": "worker"})


def containers():
    return res.average([res.parse_stats(text) for text in STATS], res.parse_services(PS))


def test_parse_stats_reads_percentages_and_bytes():
    reading = res.parse_stats(STATS[0])
    assert reading["882945709c0b"]["cpu"] == 65.12
    assert reading["882945709c0b"]["memory_bytes"] == int(216.9 * 1024 * 1024)
    assert reading["0e06770ebd1b"]["memory"] == 0.02


def test_averages_over_the_samples_per_service():
    by_service = {c["service"]: c for c in containers()}
    assert by_service["api"]["cpu"] == 49.1
    assert by_service["api"]["samples"] == [65.12, 33.0]
    assert by_service["worker"]["cpu"] == 0.0


def test_one_high_instant_is_not_enough():
    assert res.over(containers(), max_cpu=60, max_memory=90) == []


def test_the_container_over_a_limit_is_named_with_why():
    found = res.over(containers(), max_cpu=40, max_memory=80)
    assert [(c["service"], c["why"]) for c in found] == [("api", "CPU 49.1% > 40%, memory 84.8% > 80%")]


def test_compose_ps_as_one_json_array_too():
    assert res.parse_services('[{"ID": "abc", "Service": "api"}]') == {"abc": "api"}


def test_a_container_missing_from_a_sample_counts_as_idle_there():
    readings = [res.parse_stats(STATS[0]), {}]
    api = next(c for c in res.average(readings, res.parse_services(PS)) if c["service"] == "api")
    assert api["cpu"] == 32.6 and api["samples"] == [65.12, 0.0]


def test_parse_ps_gives_the_keys_runbook_diagnose_gives():
    rows = res.parse_ps("  1485 app  99.5  0.1  9000 python3\n   106 root  0.3  0.3 93940 dockerd\nbad line\n")
    assert rows[0] == {"pid": 1485, "user": "app", "cpu": 99.5, "mem": 0.1, "rss_kb": 9000, "command": "python3"}
    assert len(rows) == 2


def test_the_summary_a_person_reads():
    found = res.over(containers(), 80, 80)
    text = lines.resources_relief_lines({"samples": 2, "containers": containers(), "over": found,
                                         "top_cpu": res.parse_ps("1485 app 99.5 0.1 9000 python3"),
                                         "top_mem": res.parse_ps("1485 app 99.5 0.1 9000 python3")})
    assert text[1] == "  api: CPU 49.1% (samples 65, 33), memory 84.8% (217MiB) - OVER: memory 84.8% > 80%"
    assert text[2].startswith("  worker: CPU 0.0%") and "OVER" not in text[2]
    assert text[3] == "top CPU: python3(1485) 99.5%"
    assert text[4] == "top memory: python3(1485) 9MiB"
