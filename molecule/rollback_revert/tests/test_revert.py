"""After a rollback to v2 and a deploy of v6 both failed their gates: the host
is back on v4, healthy, running v4's containers, and the snapshots taken before
each attempt are there."""

import json

import pytest

REPO = "/root/echoelmusic"
COMPOSE_DIR = REPO + "/backend"
STATE_DIR = "/var/lib/runbook"


def _sha(host, rev):
    return host.check_output("git -C %s rev-parse %s", REPO, rev + "^{commit}")


def test_work_tree_back_on_v4(host):
    assert _sha(host, "HEAD") == _sha(host, "v4")
    assert host.check_output("git -C %s status --porcelain --untracked-files=no", REPO) == ""


def test_healthy_on_v4(host):
    out = host.check_output("curl -s -w ' %%{http_code}' --max-time 5 %s", "http://localhost:3000/health")
    body, status = out.rsplit(" ", 1)
    assert status == "200"
    assert json.loads(body)["version"] == "v4"


@pytest.mark.parametrize("service", ["api", "worker"])
def test_running_containers_are_v4(host, service):
    cid = host.check_output("cd %s && docker compose ps -q %s", COMPOSE_DIR, service)
    assert host.check_output("docker inspect -f '{{.State.Status}}' %s", cid) == "running"
    assert json.loads(host.check_output("docker exec %s cat /app/release.json", cid))["version"] == "v4"


def test_snapshots_taken_before_each_attempt(host):
    names = host.file(STATE_DIR + "/snapshots").listdir()
    assert len(names) == 2, names
    for name in names:
        commit = host.file("%s/snapshots/%s/COMMIT" % (STATE_DIR, name))
        assert commit.content_string.strip() == _sha(host, "v4")
