# SPDX-License-Identifier: GPL-3.0-or-later
"""certificate.yml's one input, force_renewal: the CLI (from the playbook's
header) and the playbook itself refuse the same values, and the playbook
refuses before the run lock or anything on a host."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from runbook.catalog import load_catalog
from runbook.errors import BadInput
from runbook.validate import check_extra_vars

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent  # the venv running the tests (make venv, make compat)
ANSIBLE_PLAYBOOK = str(BIN / "ansible-playbook") if (BIN / "ansible-playbook").exists() else "ansible-playbook"
SCENARIO = load_catalog(ROOT).get("certificate")


def test_the_catalog_shows_section_4_p1_not_destructive() -> None:
    assert (SCENARIO.section, SCENARIO.severity, SCENARIO.destructive) == ("4", "P1", False)


@pytest.mark.parametrize("value", ["maybe", "2", "yes please"])
def test_the_cli_refuses_a_force_renewal_that_is_not_a_boolean(value: str) -> None:
    with pytest.raises(BadInput):
        check_extra_vars(SCENARIO, {"force_renewal": value})


@pytest.mark.parametrize("value", ["true", "false"])
def test_the_cli_accepts_true_and_false(value: str) -> None:
    assert "force_renewal" in check_extra_vars(SCENARIO, {"force_renewal": value})


def test_the_playbook_refuses_before_the_run_lock(tmp_path: Path) -> None:
    """A local host in app_servers: a refusal must come before the lock, so the
    state dir (here under tmp_path) stays empty."""
    inventory = tmp_path / "inventory.yml"
    state = tmp_path / "state"
    inventory.write_text(
        "app_servers:\n  hosts:\n    cert-input:\n      ansible_connection: local\n"
        f"      runbook_state_dir: {state}\n", encoding="utf-8")
    result = subprocess.run(
        [ANSIBLE_PLAYBOOK, "-i", str(inventory), "playbooks/certificate.yml", "-e", "force_renewal=maybe"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, env=dict(os.environ, ANSIBLE_NOCOLOR="1"))
    out = (result.stdout + result.stderr).replace('\\"', '"')
    assert result.returncode == 2, out
    assert 'Refused force_renewal="maybe": give true or false.' in out
    assert not state.exists()
