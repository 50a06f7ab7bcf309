"""After a rollback to v3: the work tree and the running containers are v3, the
app is healthy, and the snapshot of v4's state is there with safe modes."""

import json

import pytest


def _vars(host):
    v = host.ansible.get_variables()
    repo = v.get("app_repo_dir", "/root/echoelmusic")
    return {
        "repo": repo,
        "compose_dir": v.get("app_compose_dir", repo + "/backend"),
        "health_url": v.get("app_health_url", "http://localhost:3000/health"),
        "state_dir": v.get("runbook_state_dir", "/var/lib/runbook"),
    }


def _sha(host, rev):
    return host.check_output("git -C %s rev-parse %s", _vars(host)["repo"], rev + "^{commit}")


def test_work_tree_at_v3_on_its_branch(host):
    repo = _vars(host)["repo"]
    assert _sha(host, "HEAD") == _sha(host, "v3")
    assert host.check_output("git -C %s symbolic-ref HEAD", repo) == "refs/heads/main"
    assert host.check_output("git -C %s status --porcelain --untracked-files=no", repo) == ""


def test_health_answers_200_from_v3(host):
    out = host.check_output("curl -s -w ' %%{http_code}' --max-time 5 %s", _vars(host)["health_url"])
    body, status = out.rsplit(" ", 1)
    assert status == "200"
    assert json.loads(body)["version"] == "v3"


def test_health_through_nginx(host):
    assert host.check_output("curl -s -o /dev/null -w '%%{http_code}' --max-time 5 %s", "http://127.0.0.1/health") == "200"


@pytest.mark.parametrize("service", ["api", "worker"])
def test_running_containers_are_v3(host, service):
    compose_dir = _vars(host)["compose_dir"]
    cid = host.check_output("cd %s && docker compose ps -q %s", compose_dir, service)
    assert host.check_output("docker inspect -f '{{.State.Status}}' %s", cid) == "running"
    release = json.loads(host.check_output("docker exec %s cat /app/release.json", cid))
    assert release["version"] == "v3"


def test_snapshot_of_v4_state(host):
    v = _vars(host)
    snapshots = host.file(v["state_dir"] + "/snapshots")
    assert snapshots.is_directory and snapshots.mode == 0o700
    assert host.file(v["state_dir"]).mode == 0o700
    names = snapshots.listdir()
    assert len(names) == 1, names  # the idempotence run took none
    snap = v["state_dir"] + "/snapshots/" + names[0]
    assert names[0].endswith("-" + _sha(host, "v4")[:12])
    assert host.file(snap).mode == 0o700
    commit = host.file(snap + "/COMMIT")
    assert commit.mode == 0o600
    assert commit.content_string.strip() == _sha(host, "v4")
    archive = host.file(snap + "/backend.tar.gz")
    assert archive.mode == 0o600
    listing = host.check_output("tar -tzf %s", snap + "/backend.tar.gz").split()
    assert "backend/.env" in listing
    assert "backend/release.json" in listing
    assert '"v4"' in host.check_output("tar -xzOf %s backend/release.json", snap + "/backend.tar.gz")
