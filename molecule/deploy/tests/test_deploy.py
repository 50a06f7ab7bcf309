"""After the manual deploy: the work tree is origin's main (v5) on its branch,
the app healthy on v5, and the snapshot of v4's state is there."""

import json

import pytest

REPO = "/root/echoelmusic"
COMPOSE_DIR = REPO + "/backend"
STATE_DIR = "/var/lib/runbook"


def _sha(host, rev):
    return host.check_output("git -C %s rev-parse %s", REPO, rev + "^{commit}")


def test_work_tree_at_origin_main(host):
    head = _sha(host, "HEAD")
    origin_main = host.check_output("git --git-dir %s rev-parse main", "/srv/git/echoelmusic.git")
    assert head == origin_main == _sha(host, "v5")
    assert host.check_output("git -C %s symbolic-ref HEAD", REPO) == "refs/heads/main"


def test_healthy_on_v5(host):
    out = host.check_output("curl -s -w ' %%{http_code}' --max-time 5 %s", "http://localhost:3000/health")
    body, status = out.rsplit(" ", 1)
    assert status == "200"
    assert json.loads(body)["version"] == "v5"


@pytest.mark.parametrize("service", ["api", "worker"])
def test_running_containers_are_v5(host, service):
    cid = host.check_output("cd %s && docker compose ps -q %s", COMPOSE_DIR, service)
    assert host.check_output("docker inspect -f '{{.State.Status}}' %s", cid) == "running"
    assert json.loads(host.check_output("docker exec %s cat /app/release.json", cid))["version"] == "v5"


def test_snapshot_of_v4_state(host):
    names = host.file(STATE_DIR + "/snapshots").listdir()
    assert len(names) == 1, names
    commit = host.file("%s/snapshots/%s/COMMIT" % (STATE_DIR, names[0]))
    assert commit.content_string.strip() == _sha(host, "v4")
    assert commit.mode == 0o600
