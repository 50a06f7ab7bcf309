"""After the bad runs: the work tree still on v4 with the server's hot fix kept,
the app healthy on v4, no snapshot taken."""

import json

REPO = "/root/echoelmusic"


def test_work_tree_still_on_v4_with_the_hot_fix(host):
    head = host.check_output("git -C %s rev-parse HEAD", REPO)
    assert head == host.check_output("git -C %s rev-parse %s", REPO, "v4^{commit}")
    assert host.check_output("git -C %s status --porcelain --untracked-files=no", REPO).strip() == "M backend/worker.py"
    assert "# hot fix edited on the server" in host.file(REPO + "/backend/worker.py").content_string


def test_healthy_on_v4(host):
    out = host.check_output("curl -s -w ' %%{http_code}' --max-time 5 %s", "http://localhost:3000/health")
    body, status = out.rsplit(" ", 1)
    assert status == "200"
    assert json.loads(body)["version"] == "v4"


def test_no_snapshot_taken(host):
    assert not host.file("/var/lib/runbook/snapshots").exists
