# SPDX-License-Identifier: GPL-3.0-or-later
"""`runbook --version`: the tool's version (pyproject.toml's) and the ansible-core it runs."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

from ansible.release import __version__ as ansible_core

import runbook

ROOT = Path(__file__).resolve().parents[1]


def test_the_package_version_is_pyprojects() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert runbook.__version__ == project["version"]


def test_version_prints_the_tool_and_ansible_core_and_exits_0() -> None:
    result = subprocess.run([sys.executable, "-m", "runbook", "--version"], capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"runbook {runbook.__version__} (ansible-core {ansible_core})"
    assert result.stderr == ""
