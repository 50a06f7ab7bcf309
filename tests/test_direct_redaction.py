# SPDX-License-Identifier: GPL-3.0-or-later
"""A direct `ansible-playbook` run (CI, no CLI redactor in between) prints no
secret that reaches the app's logs: the diagnosis passes every log line through
the shared runbook_redact filter, and the raw reads are no_log, even with -v."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HOST = os.environ.get("RUNBOOK_TEST_HOST", "")
INVENTORY = os.environ.get("RUNBOOK_TEST_INVENTORY", "")
SECRETS = ("sk_live_PLANTEDdirect0123456789", "pa/ss+wPLANTED", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.PLANTEDsig0123")

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not (HOST and INVENTORY), reason="needs RUNBOOK_TEST_HOST and RUNBOOK_TEST_INVENTORY (make integration)"),
]


def test_secrets_in_the_api_logs_never_reach_the_output():
    line = (f"api boot ERROR STRIPE_SECRET_KEY={SECRETS[0]} DATABASE_URL=postgresql://app:{SECRETS[1]}@db:5432/app "
            f"Authorization: Bearer {SECRETS[2]}")
    # What the api itself would print: an error line on its container's stdout
    # (the diagnosis shows the api's last error lines).
    subprocess.run(["docker", "exec", HOST, "docker", "exec", "backend-api-1", "sh", "-c", f"echo '{line}' > /proc/1/fd/1"],
                   check=True)
    result = subprocess.run(["ansible-playbook", "-v", "-i", INVENTORY, "playbooks/diagnose.yml"], cwd=ROOT,
                            capture_output=True, text=True, timeout=300, env=dict(os.environ, ANSIBLE_NOCOLOR="1"))
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-3000:]
    assert "api boot ERROR STRIPE_SECRET_KEY=********" in out  # the line is shown, redacted
    for secret in SECRETS:
        assert secret not in out
