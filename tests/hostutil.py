"""Helpers for integration tests that act on the prepared test host (a container).

The host comes from RUNBOOK_TEST_HOST / RUNBOOK_TEST_INVENTORY (testbed/integration.sh
sets both); the `test_host` fixture in conftest.py hands them to a test.
"""

from __future__ import annotations

import subprocess

# Run inside the host: prints the status /health answers (raises when nothing answers).
HEALTH = ("import urllib.request; "
          "print(urllib.request.urlopen('http://localhost:3000/health', timeout=10).status)")


def on_host(container: str, *command: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", "exec", container, *command], text=True, capture_output=True,
                          timeout=120, check=check)


def healthy(container: str) -> bool:
    return on_host(container, "python3", "-c", HEALTH, check=False).stdout.strip() == "200"
