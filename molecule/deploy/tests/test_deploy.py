# SPDX-License-Identifier: GPL-3.0-or-later
"""After the manual deploy: the work tree is origin's main (v5) on its branch,
the app healthy on v5, and the snapshot of v4's state is there."""

import pytest


def test_work_tree_at_origin_main(host, app):
    origin_main = host.check_output("git --git-dir %s rev-parse main", "/srv/git/echoelmusic.git")
    assert app.sha("HEAD") == origin_main == app.sha("v5")
    assert host.check_output("git -C %s symbolic-ref HEAD", app.repo) == "refs/heads/main"


def test_healthy_on_v5(app):
    assert app.health() == ("200", "v5")


@pytest.mark.parametrize("service", ["api", "worker"])
def test_running_containers_are_v5(app, service):
    assert app.container(service) == ("running", "v5")


def test_snapshot_of_v4_state(host, app):
    names = host.file(app.state_dir + "/snapshots").listdir()
    assert len(names) == 1, names
    commit = host.file("%s/snapshots/%s/COMMIT" % (app.state_dir, names[0]))
    assert commit.content_string.strip() == app.sha("v4")
    assert commit.mode == 0o600


@pytest.mark.parametrize("service", ["api", "worker"])
def test_running_containers_carry_the_commit_label(app, service):
    assert app.label(service) == app.sha("v5")


def test_ledger_records_v4_found_healthy_then_v5_past_the_gate(app):
    entries = app.ledger()
    assert [(e["commit"], e["source"]) for e in entries] == [
        (app.sha("v4"), "healthy at the start of a run"),
        (app.sha("v5"), "passed the health gate"),
    ]
    assert "rolled_back_from" not in entries[-1]  # a deploy moves forward
