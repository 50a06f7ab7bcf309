# SPDX-License-Identifier: GPL-3.0-or-later
"""module_utils/runbook_systemd, runbook_times, runbook_usage, runbook_docker_output: pure parsers."""

from __future__ import annotations

import json

from ansible_collections.runbook.ops.plugins.module_utils.runbook_docker_output import parse_compose_ps, parse_inspect
from ansible_collections.runbook.ops.plugins.module_utils.runbook_systemd import parse_systemctl_show, show_argv
from ansible_collections.runbook.ops.plugins.module_utils.runbook_times import docker_epoch, epoch_of, iso
from ansible_collections.runbook.ops.plugins.module_utils.runbook_usage import human_size, parse_df

SHOW = """\
Id=docker.service
LoadState=loaded
ActiveState=active
SubState=running
NRestarts=2
ActiveEnterTimestamp=@1795953600

Id=nope.service
LoadState=not-found
ActiveState=inactive
SubState=dead
NRestarts=
"""


def test_units_in_the_order_asked():
    units = parse_systemctl_show(SHOW, ["docker", "nope"])
    assert units[0] == {"name": "docker", "state": "active", "sub_state": "running", "since": "2026-11-29T12:00:00Z",
                        "since_epoch": 1795953600, "restarts": 2}
    assert units[1]["state"] == "not-found" and units[1]["restarts"] is None
    assert show_argv(["a"])[-2:] == ["--", "a"]


def test_times():
    assert iso(1795953600) == "2026-11-29T12:00:00Z" and iso(None) == ""
    assert epoch_of("2026-11-29T12:00:00Z") == 1795953600 and epoch_of("yesterday") is None
    assert docker_epoch("0001-01-01T00:00:00Z") is None
    assert docker_epoch("2026-11-29T13:00:00.5+01:00") == 1795953600


def test_compose_ps_and_inspect():
    assert parse_compose_ps('{"ID": "1", "Name": "a-1", "Service": "a"}\n') == [{"id": "1", "name": "a-1", "service": "a"}]
    rows = parse_inspect(json.dumps([{"Name": "/b-1", "Id": "9", "RestartCount": 1,
                                      "State": {"Status": "exited", "ExitCode": 137,
                                                "FinishedAt": "2026-11-29T12:00:00Z"}}]))
    assert rows[0]["name"] == "b-1" and rows[0]["since"] == "2026-11-29T12:00:00Z" and rows[0]["health"] == "none"


def test_df_leaves_pseudo_file_systems_out():
    text = ("Filesystem Type 1024-blocks Used Available Capacity Mounted on\n"
            "tmpfs tmpfs 100 0 100 0% /run\n/dev/vda ext4 2048 1024 1024 50% /srv\n")
    assert parse_df(text) == [{"mount": "/srv", "size": "2.0M", "used": "1.0M", "avail": "1.0M", "use_pct": 50,
                               "filesystem": "/dev/vda", "type": "ext4"}]
    assert human_size(264212084) == "252G"
