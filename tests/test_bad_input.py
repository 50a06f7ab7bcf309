# SPDX-License-Identifier: GPL-3.0-or-later
"""Bad input changes nothing: each playbook, called as CI calls it
(`ansible-playbook playbooks/X.yml -e ...`), fails with one line that says what
was wrong and what is accepted, and the host is exactly as before: same
commit, same containers, same .env, no lock, no snapshot, no ledger entry.
One table, one prepared test host (make integration)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HOST = os.environ.get("RUNBOOK_TEST_HOST", "")
INVENTORY = os.environ.get("RUNBOOK_TEST_INVENTORY", "")
REPO = "/root/echoelmusic"

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not (HOST and INVENTORY), reason="needs RUNBOOK_TEST_HOST and RUNBOOK_TEST_INVENTORY (make integration)"),
]

ACCEPTED_COMMIT = "give a 7-40 hex commit SHA, a tag (v1.2.3 or refs/tags/v1.2.3), HEAD~N or last-good"

CASES = [
    ("rollback.yml", {"commit": "v1..2"}, f'Refused commit="v1..2": {ACCEPTED_COMMIT}'),
    ("rollback.yml", {"commit": "-v1"}, f'Refused commit="-v1": {ACCEPTED_COMMIT}'),
    # a name the pattern takes (a tag) that the host does not have
    ("rollback.yml", {"commit": "zzz"}, f"no tag zzz pointing at a commit in {REPO}"),
    ("rollback.yml", {"commit": "; rm -rf /"}, f'Refused commit="; rm -rf /": {ACCEPTED_COMMIT}'),
    ("rollback.yml", {"commit": "HEAD~1 && reboot"}, ACCEPTED_COMMIT),
    ("rollback.yml", {"commit": "last-good; reboot"}, ACCEPTED_COMMIT),
    ("rollback.yml", {"commit": "0123456789abcdef0123456789abcdef01234567"},
     'Refused target "0123456789abcdef0123456789abcdef01234567": no such commit in /root/echoelmusic'),
    ("rollback.yml", {"commit": "HEAD~40"}, 'Refused target "HEAD~40": no such commit'),
    ("rollback.yml", {"commit": "last-good"},
     'Refused target "last-good": no earlier healthy release is recorded on this host'),
    ("rollback.yml", {"commit": "HEAD~1", "no_cache": "maybe"}, 'Refused no_cache="maybe": give true or false'),
    ("rollback.yml", {"commit": "HEAD~1", "snapshot": "perhaps"}, 'Refused snapshot="perhaps": give true or false'),
    ("deploy.yml", {"ref": "../../etc"}, 'Refused ref="../../etc": give a branch or tag of origin'),
    ("deploy.yml", {"ref": "main;reboot"}, 'Refused ref="main;reboot"'),
    ("deploy.yml", {"ref": "main.lock"}, 'Refused ref="main.lock"'),
    ("deploy.yml", {"ref": "feature/"}, 'Refused ref="feature/"'),
    ("deploy.yml", {"ref": "main@{1}"}, 'Refused ref="main@{1}"'),
    ("deploy.yml", {"ref": "no-such-branch"}, 'Refused target "no-such-branch": no such branch or tag on origin'),
    ("payments.yml", {"payments": "maybe"}, 'Refused payments="maybe": give status, off or on'),
    ("payments.yml", {"payments": "off", "since": "1h;reboot"}, 'Refused since="1h;reboot"'),
    ("certificate.yml", {"force_renewal": "perhaps"}, 'Refused force_renewal="perhaps": give true or false'),
    ("disk.yml", {"prune_volumes": "all"}, 'Refused prune_volumes="all": give true or false'),
    ("disk.yml", {"disk_keep_logs": "maybe"}, 'Refused disk_keep_logs="maybe": give true or false'),
    ("disk.yml", {"disk_backup_recurse": "deep"}, 'Refused disk_backup_recurse="deep": give true or false'),
    ("disk.yml", {"disk_backup_keep": "1"}, 'Refused disk_backup_keep="1": give a whole number 2-9999'),
    ("disk.yml", {"disk_cleanup_log_keep_mb": "50"}, 'Refused disk_cleanup_log_keep_mb="50": give a whole number of MiB'),
    ("resources.yml", {"stop": "worker;reboot"}, 'Refused stop="worker;reboot"'),
    # reboot=true is accepted now (the graceful reboot); a value that is not a boolean is not.
    ("resources.yml", {"reboot": "now", "stop": "worker"}, 'Refused reboot="now": give true or false'),
    ("security.yml", {"declared_at": "yesterday; reboot"}, 'Refused declared_at="yesterday; reboot": give now or a UTC time'),
    ("security.yml", {"lockdown_ports": "8080;reboot"}, 'Refused lockdown_ports="8080;reboot"'),
    ("security.yml", {"lockdown_ports": "8080,0"}, 'Refused lockdown_ports="8080,0": port 0 cannot be denied'),
    ("unlock.yml", {"health_timeout": "soon"}, 'Refused health_timeout="soon"'),
    ("prevention.yml", {"rate": "10r/s;"}, 'Refused rate="10r/s;": give N r/s or N r/m, e.g. 10r/s.'),
    ("prevention.yml", {"burst": "0"}, 'Refused burst="0": give a whole number 1-99999.'),
    ("prevention.yml", {"disk_alert_percent": "100"}, 'Refused disk_alert_percent="100": give a whole number 1-99.'),
    ("prevention.yml", {"cert_alert_days": "0"}, 'Refused cert_alert_days="0": give a whole number 1-999.'),
    ("prevention.yml", {"prevention_upgrades": "maybe"}, 'Refused prevention_upgrades="maybe": give true or false.'),
    ("prevention.yml", {"prevention_docker_logs": "perhaps"}, 'Refused prevention_docker_logs="perhaps": give true or false.'),
]


def on_host(*argv: str) -> str:
    return subprocess.run(["docker", "exec", HOST, *argv], capture_output=True, text=True).stdout


def host_state() -> str:
    """Commit, work tree status, container ids, .env and the state dir: all that a run could change."""
    return on_host("sh", "-c", f"""
        git -C {REPO} rev-parse HEAD; git -C {REPO} status --porcelain --untracked-files=no
        docker ps -q --no-trunc | sort
        sha256sum {REPO}/backend/.env
        ls -AR /var/lib/runbook 2>/dev/null || echo 'no state dir'""")


def run(playbook: str, extra: dict[str, str]) -> tuple[int, str]:
    result = subprocess.run(
        ["ansible-playbook", "-i", INVENTORY, f"playbooks/{playbook}", "-e", json.dumps(extra)],
        cwd=ROOT, capture_output=True, text=True, timeout=300, env=dict(os.environ, ANSIBLE_NOCOLOR="1"))
    # The fatal line shows the message as JSON (\" for "); compare unescaped.
    return result.returncode, (result.stdout + result.stderr).replace('\\"', '"')


@pytest.fixture(scope="module")
def before() -> str:
    state = host_state()
    assert "no state dir" in state  # a fresh host: no lock, no ledger, no snapshot
    return state


@pytest.mark.parametrize(("playbook", "extra", "expected"), CASES,
                         ids=[f"{p}:{json.dumps(e)}" for p, e, _ in CASES])
def test_bad_input_fails_with_one_line_and_changes_nothing(before, playbook, extra, expected):
    rc, out = run(playbook, extra)
    assert rc == 2, out[-2000:]
    assert expected in out, out[-2000:]
    assert "changed=0 " in out
    assert "failed=1 " in out
    assert len([line for line in out.splitlines() if "FAILED!" in line]) == 1
    assert host_state() == before


def test_a_dirty_work_tree_is_refused_and_kept(before):
    """A hot fix edited on the server is never thrown away by a rollback."""
    worker = f"{REPO}/backend/worker.py"
    on_host("sh", "-c", f"echo '# hot fix edited on the server' >> {worker}")
    try:
        dirty = host_state()
        rc, out = run("rollback.yml", {"commit": on_host("git", "-C", REPO, "rev-parse", "v3").strip()})
        assert rc == 2, out[-2000:]
        assert f"Refused: the work tree {REPO} has local changes to tracked files (M backend/worker.py)" in out
        assert "changed=0 " in out
        assert host_state() == dirty
        assert "# hot fix edited on the server" in on_host("cat", worker)
    finally:
        on_host("git", "-C", REPO, "checkout", "--", "backend/worker.py")
    assert host_state() == before
