# SPDX-License-Identifier: GPL-3.0-or-later
"""The docker_log_limits role's module (runbook_docker_daemon): the merge keeps
every other key of daemon.json, the running engine's start time is read from
/proc as Linux writes it, a file changed after the engine started is noticed,
and running containers without a json log cap are named."""

from __future__ import annotations

from pathlib import Path

import pytest

from ansible_collections.runbook.ops.plugins.modules import runbook_docker_daemon

ROLE = Path(__file__).resolve().parents[4] / "roles" / "docker_log_limits"
daemon = runbook_docker_daemon

TEST_IMAGE_CONFIG = {"bridge": "none", "iptables": False, "log-driver": "json-file"}


def test_the_merge_adds_the_caps_and_live_restore_and_keeps_every_other_key():
    merged = daemon.merge(TEST_IMAGE_CONFIG, "10m", 3)
    assert merged == {"bridge": "none", "iptables": False, "log-driver": "json-file", "live-restore": True,
                      "log-opts": {"max-size": "10m", "max-file": "3"}}
    assert TEST_IMAGE_CONFIG == {"bridge": "none", "iptables": False, "log-driver": "json-file"}  # not mutated


def test_the_merge_caps_local_and_keeps_it_and_its_other_log_opts():
    current = {"log-driver": "local", "log-opts": {"compress": "true", "max-size": "1g"}, "data-root": "/srv/docker"}
    merged = daemon.merge(current, "10m", 5)
    assert merged["log-driver"] == "local"
    assert merged["log-opts"] == {"compress": "true", "max-size": "10m", "max-file": "5"}
    assert merged["data-root"] == "/srv/docker"


def test_no_driver_set_means_json_file():
    assert daemon.merge({"bridge": "none"}, "10m", 3)["log-driver"] == "json-file"
    assert daemon.left_alone(daemon.driver_of({})) == ""


@pytest.mark.parametrize("driver", ["journald", "syslog", "gelf", "none"])
def test_a_driver_someone_chose_is_never_replaced(driver):
    current = {"log-driver": driver, "log-opts": {"tag": "{{.Name}}"}, "bridge": "none"}
    assert daemon.merge(current, "10m", 3) == current
    assert daemon.left_alone(daemon.driver_of(current)).startswith("log-driver %s left alone" % driver)


def test_containers_on_other_drivers_are_named():
    inspected = [
        {"Name": "/api", "HostConfig": {"LogConfig": {"Type": "json-file", "Config": {}}}},
        {"Name": "/worker", "HostConfig": {"LogConfig": {"Type": "journald", "Config": {}}}},
    ]
    assert daemon.other_drivers(inspected) == ["worker (journald)"]


def test_a_merged_file_merges_to_itself():
    once = daemon.merge(TEST_IMAGE_CONFIG, "10m", 3)
    assert daemon.merge(once, "10m", 3) == once


@pytest.mark.parametrize("text, expected", [("", {}), ("  \n", {}), ('{"a": 1}', {"a": 1})])
def test_parse_config_reads_objects_and_empty_files(text, expected):
    assert daemon.parse_config(text) == expected


@pytest.mark.parametrize("text", ["[1, 2]", '"x"', "{not json"])
def test_parse_config_refuses_anything_else(text):
    with pytest.raises(ValueError):
        daemon.parse_config(text)


def test_process_start_reads_field_22_after_a_command_with_spaces_and_parens():
    # /proc/PID/stat of a process whose name holds ") (": field 22 is 500 ticks after boot.
    stat = "1234 (we) ird) S 1 1234 1234 0 -1 4194560 100 0 0 0 5 3 0 0 20 0 12 0 500 2000000 300"
    assert daemon.process_start(stat, 1_700_000_000, 100) == 1_700_000_005.0


def test_boot_time_is_read_from_proc_stat():
    assert daemon.boot_time("cpu  1 2 3\nintr 5\nbtime 1764400000\nprocesses 9\n") == 1764400000
    with pytest.raises(ValueError):
        daemon.boot_time("cpu  1 2 3\n")


@pytest.mark.parametrize("started, mtime, stale", [
    (1000.0, 900.0, False),     # file older than the engine
    (1000.0, 1001.5, False),    # within the clock slack: the restart that followed the write
    (1000.0, 1003.0, True),     # changed after the engine started
    (None, 1003.0, False),      # no engine running
    (1000.0, None, False),      # no file
])
def test_is_stale(started, mtime, stale):
    assert daemon.is_stale(started, mtime, 2) is stale


def test_uncapped_names_json_and_local_logs_without_max_size():
    inspected = [
        {"Name": "/backend-api-1", "HostConfig": {"LogConfig": {"Type": "json-file", "Config": {"max-size": "10m"}}}},
        {"Name": "/oneoff", "HostConfig": {"LogConfig": {"Type": "json-file", "Config": {}}}},
        {"Name": "/local", "HostConfig": {"LogConfig": {"Type": "local", "Config": {"max-file": "2"}}}},
        {"Name": "/journald", "HostConfig": {"LogConfig": {"Type": "journald", "Config": {}}}},
    ]
    assert daemon.uncapped(inspected) == ["local", "oneoff"]
