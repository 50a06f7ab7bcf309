# SPDX-License-Identifier: GPL-3.0-or-later
"""After a rollback to v2 and a deploy of v6 both failed their gates: the host
is back on v4, healthy, running v4's containers, and the snapshots taken before
each attempt are there."""

import pytest


def test_work_tree_back_on_v4(host, app):
    assert app.sha("HEAD") == app.sha("v4")
    assert host.check_output("git -C %s status --porcelain --untracked-files=no", app.repo) == ""


def test_healthy_on_v4(app):
    assert app.health() == ("200", "v4")


@pytest.mark.parametrize("service", ["api", "worker"])
def test_running_containers_are_v4(app, service):
    assert app.container(service) == ("running", "v4")


def test_snapshots_taken_before_each_attempt(host, app):
    names = host.file(app.state_dir + "/snapshots").listdir()
    assert len(names) == 2, names
    for name in names:
        commit = host.file("%s/snapshots/%s/COMMIT" % (app.state_dir, name))
        assert commit.content_string.strip() == app.sha("v4")


@pytest.mark.parametrize("service", ["api", "worker"])
def test_restored_containers_carry_v4s_commit_label(app, service):
    assert app.label(service) == app.sha("v4")


def test_ledger_holds_only_v4(app):
    """v4 was recorded healthy before the first attempt moved anything; neither
    failed release (v2, v6) ever passed the gate."""
    assert [e["commit"] for e in app.ledger()] == [app.sha("v4")]
