# SPDX-License-Identifier: GPL-3.0-or-later
"""`runbook unlock-stale`: runs playbooks/internal/release_lock.yml with exactly one
run's token (--token) or, without, with runbook_lock_stale_only=true; the fixture
project's release playbook records what it received."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import released
from runbook.cli import main


def test_without_a_token_only_a_stale_lock_is_released(
    project: Path, inventory: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "state-given"
    assert main(["unlock-stale", "-i", str(inventory), "-e", f"runbook_state_dir={state}"]) == 0
    assert released(state) == [{"token": None, "stale_only": True, "host": "localhost"}]
    out = capsys.readouterr().out
    # the playbook's debug message, through the progress printer
    assert "localhost: released the run lock of token none (stale only: True)" in out
    assert "Done (exit 0)" in out


def test_with_a_token_exactly_that_runs_lock_is_released(
    project: Path, inventory: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["unlock-stale", "-i", str(inventory), "-l", "localhost", "--token", "0123456789ABCDEF"]) == 0
    # no runbook_state_dir given: the playbook's own default
    assert released(tmp_path / "state") == [{"token": "0123456789abcdef", "stale_only": False, "host": "localhost"}]
    assert "released the run lock of token 0123456789abcdef (stale only: False)" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["-e", "runbook_lock_token=0123456789abcdef"], "unlock-stale does not accept -e runbook_lock_token"),
        (["-e", "commit=abc1234"], "unlock-stale does not accept -e commit"),
        (["-e", "runbook_state_dir={{ lookup('pipe', 'id') }}"], "-e runbook_state_dir: the value contains a template"),
        (["--token", "{{ x }}"], "--token expects the run's lock token"),
        (["-l", "nosuchhost"], "limit 'nosuchhost' matched no host"),
    ],
)
def test_bad_input_is_one_line_exit_2(
    argv: list[str], message: str, project: Path, inventory: Path, tmp_path: Path,
    capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["unlock-stale", "-i", str(inventory), *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"runbook: error: {message}") and err.count("\n") == 1, err
    assert released(tmp_path / "state") == []


def test_without_the_release_playbook_it_is_bad_input(
    project: Path, inventory: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "playbooks" / "internal" / "release_lock.yml").unlink()
    assert main(["unlock-stale", "-i", str(inventory)]) == 2
    assert "playbooks/internal/release_lock.yml not found" in capsys.readouterr().err


@pytest.mark.skipif(shutil.which("ssh") is None, reason="needs an ssh client")
def test_an_unreachable_host_exits_3(
    project: Path, unreachable_inventory: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["unlock-stale", "-i", str(unreachable_inventory), "--token", "0123456789abcdef"]) == 3
    out = capsys.readouterr().out
    assert "ghost: Record the release - unreachable" in out and "Failed (exit 3)" in out
