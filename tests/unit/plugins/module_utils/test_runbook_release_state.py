# SPDX-License-Identifier: GPL-3.0-or-later
"""module_utils/runbook_release_state and runbook_snapshot: runbook_release's rules."""

from __future__ import annotations

import os

from ansible_collections.runbook.ops.plugins.module_utils.runbook_release_state import (
    parse_compose_config, parse_ls_remote, running_release, where_from)
from ansible_collections.runbook.ops.plugins.module_utils.runbook_snapshot import prune_snapshots, snapshot_fits

A = "a" * 40
B = "b" * 40


def test_the_remote_names_a_branch_before_a_tag():
    text = "%s\trefs/tags/v1\n%s\trefs/heads/v1\n" % (A, B)
    assert parse_ls_remote(text, "v1") == B
    assert parse_ls_remote("%s\trefs/tags/v1\n%s\trefs/tags/v1^{}\n" % (A, B), "v1") == B
    assert parse_ls_remote("", "v1") == ""


def test_compose_config_names_the_project_and_the_services_that_build():
    assert parse_compose_config('{"name": "backend", "services": {"api": {"build": {}}, "db": {"image": "pg"}}}') == (
        "backend", [])
    assert parse_compose_config('{"name": "backend", "services": {"api": {"build": {"context": "."}}}}') == (
        "backend", ["api"])
    assert parse_compose_config("no json") == ("", [])


def test_the_release_that_runs():
    containers = [("backend", "api", "False", A), ("backend", "api", "True", B), ("other", "x", "False", B)]
    services = running_release(containers, "backend")
    assert services == {"api": A}
    assert where_from(B, [], services, 200, [])[0] == A
    assert where_from(B, [], services, 502, [{"commit": B}]) == (B, "release ledger (the app does not answer healthy now)")


def test_snapshots_fit_and_the_oldest_go(tmp_path):
    assert snapshot_fits(-1, 10**12) and not snapshot_fits(100, 0) and snapshot_fits(20 * 1048576, 1)
    for name in ("20261129T120000Z-aaa", "20261129T130000Z-bbb", "20261129T140000Z-ccc", "notes"):
        os.mkdir(tmp_path / name)
    assert prune_snapshots(str(tmp_path), 2) == [str(tmp_path / "20261129T120000Z-aaa")]
    assert sorted(os.listdir(tmp_path)) == ["20261129T130000Z-bbb", "20261129T140000Z-ccc", "notes"]
