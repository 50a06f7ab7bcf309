# SPDX-License-Identifier: GPL-3.0-or-later
"""After a rollback to the tag v3: the work tree and the running containers are v3, the
app is healthy, and the snapshot of v4's state is there with safe modes."""

import pytest


def test_work_tree_at_v3_on_its_branch(host, app):
    assert app.sha("HEAD") == app.sha("v3")
    assert host.check_output("git -C %s symbolic-ref HEAD", app.repo) == "refs/heads/main"
    assert host.check_output("git -C %s status --porcelain --untracked-files=no", app.repo) == ""


def test_health_answers_200_from_v3(app):
    assert app.health() == ("200", "v3")


def test_health_through_nginx(app):
    assert app.http_status("http://127.0.0.1/health") == "200"


@pytest.mark.parametrize("service", ["api", "worker"])
def test_running_containers_are_v3(app, service):
    assert app.container(service) == ("running", "v3")


def test_snapshot_of_v4_state(host, app):
    snapshots = host.file(app.state_dir + "/snapshots")
    assert snapshots.is_directory and snapshots.mode == 0o700
    assert host.file(app.state_dir).mode == 0o700
    names = snapshots.listdir()
    assert len(names) == 1, names  # the idempotence run took none
    snap = app.state_dir + "/snapshots/" + names[0]
    assert names[0].endswith("-" + app.sha("v4")[:12])
    assert host.file(snap).mode == 0o700
    commit = host.file(snap + "/COMMIT")
    assert commit.mode == 0o600
    assert commit.content_string.strip() == app.sha("v4")
    archive = host.file(snap + "/backend.tar.gz")
    assert archive.mode == 0o600
    listing = host.check_output("tar -tzf %s", snap + "/backend.tar.gz").split()
    assert "backend/.env" in listing
    assert "backend/release.json" in listing
    assert '"v4"' in host.check_output("tar -xzOf %s backend/release.json", snap + "/backend.tar.gz")


@pytest.mark.parametrize("service", ["api", "worker"])
def test_running_containers_carry_the_commit_label(app, service):
    assert app.label(service) == app.sha("v3")


def test_ledger_records_v4_found_healthy_then_v3_past_the_gate(host, app):
    entries = app.ledger()
    assert [(e["commit"], e["source"]) for e in entries] == [
        (app.sha("v4"), "healthy at the start of a run"),
        (app.sha("v3"), "passed the health gate"),
    ]  # the idempotence run recorded nothing more
    assert entries[-1]["rolled_back_from"] == app.sha("v4")
    # the tag was resolved on the host: the ledger holds full commit SHAs only
    assert all(len(e["commit"]) == 40 and int(e["commit"], 16) >= 0 for e in entries)
    assert host.file(app.state_dir + "/releases.jsonl").mode == 0o600
