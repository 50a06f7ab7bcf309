# SPDX-License-Identifier: GPL-3.0-or-later
"""--list-hosts/--list-tasks (ansible-playbook's listing, no record), --ssh-common-args, per-scenario
--help and bash completion."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from runbook.cli import main


def no_record(runs: Path) -> bool:
    return not runs.exists() or not list(runs.iterdir())


def test_list_hosts_prints_ansibles_listing_and_runs_nothing(project: Path, runs: Path, inventory: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "scenario", "-i", str(inventory), "--list-hosts", "-e", "commit=HEAD~2"]) == 0
    out = capsys.readouterr().out
    assert "hosts (1):" in out and "localhost" in out
    assert no_record(runs)


def test_list_tasks_of_a_destructive_scenario_needs_no_yes(project: Path, runs: Path, inventory: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "wipe", "-i", str(inventory), "--list-tasks"]) == 0
    out = capsys.readouterr().out
    assert "Pretend to prune volumes" in out and "pruned" not in out
    assert no_record(runs)


def test_list_hosts_of_an_inventory_without_the_group(project: Path, runs: Path, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "scenario", "-i", "ghost.invalid,", "--list-hosts"]) == 0  # ansible: no host, no error
    assert "hosts (0):" in capsys.readouterr().out
    assert no_record(runs)


def test_ssh_common_args_reach_ansible_playbook(project: Path, runs: Path, inventory: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "scenario", "-i", str(inventory), "--ssh-common-args",
                 "-o ProxyJump=bastion.example.com"]) == 0, capsys.readouterr().err
    folder = next(path for path in runs.iterdir() if path.is_dir())
    command = (folder / "command").read_text()
    assert "--ssh-common-args" in command and "-o ProxyJump=bastion.example.com" in command
    assert "--ssh-common-args '-o ProxyJump=bastion.example.com'" in (folder / "run.json").read_text()


def test_a_template_in_ssh_common_args_is_refused(project: Path, runs: Path, inventory: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "scenario", "-i", str(inventory), "--ssh-common-args=-o X={{ lookup('pipe','id') }}"]) == 2
    assert capsys.readouterr().err.startswith("runbook: error: --ssh-common-args: give plain ssh options")


def test_scenario_help_shows_its_variables_an_example_and_exit_codes(project: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "scenario", "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: runbook run scenario ")
    assert "commit=COMMIT  (str; matches ^([0-9a-fA-F]{7,40}|HEAD~[0-9]+)$; default HEAD~1)" in out
    assert "payments=off|on  (str; one of off|on; default off)" in out
    assert "fail_step=true|false  (bool; default false)" in out
    assert "example:\n  runbook run scenario -i inventory/production.yml -e fail_step=true\n" in out
    assert "exit codes:\n  0    success\n  1    the scenario failed on a host\n  2    bad input, nothing run" in out
    assert "--list-hosts" in out  # run's own options follow


def test_run_help_without_a_scenario_and_an_unknown_one(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--help"]) == 0
    assert capsys.readouterr().out.startswith("usage: runbook run [-h]")
    assert main(["run", "scenari", "--help"]) == 2
    assert "did you mean scenario?" in capsys.readouterr().err


def test_completion_lists_scenarios_variables_and_choices(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["__complete", "scenarios"]) == 0
    assert capsys.readouterr().out.split() == ["scenario", "wipe"]
    assert main(["__complete", "vars", "scenario"]) == 0
    names = capsys.readouterr().out.split()
    assert names[:5] == ["api_token", "fail_step", "sleep_seconds", "payments", "commit"]
    assert "app_repo_dir" in names and "ansible_port" in names
    assert main(["__complete", "values", "scenario", "payments"]) == 0
    assert capsys.readouterr().out.split() == ["off", "on"]
    assert main(["__complete", "vars", "nosuch"]) == 0 and capsys.readouterr().out == ""


def _complete(script: Path, bindir: Path, words: list[str], current: int) -> list[str]:
    array = " ".join(f"'{word}'" for word in words)
    shell = f"source {script}; COMP_WORDS=({array}); COMP_CWORD={current}; _runbook; printf '%s\\n' \"${{COMPREPLY[@]}}\""
    env = {**os.environ, "PATH": f"{bindir}:{os.environ['PATH']}"}
    done = subprocess.run(["bash", "-c", shell], capture_output=True, text=True, env=env, check=True, timeout=120)
    return [line for line in done.stdout.splitlines() if line]


def test_the_bash_script_completes_through_runbook_itself(project: Path, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["completion", "bash"]) == 0
    script = tmp_path / "runbook.bash"
    script.write_text(capsys.readouterr().out)
    assert "complete -F _runbook runbook" in script.read_text()
    bindir = tmp_path / "bin"
    bindir.mkdir()
    wrapper = bindir / "runbook"
    source = Path(__file__).resolve().parents[1] / "src"
    wrapper.write_text(f"#!/bin/sh\nPYTHONPATH={source} exec {sys.executable} -m runbook \"$@\"\n")
    wrapper.chmod(0o755)
    assert _complete(script, bindir, ["runbook", "ru"], 1) == ["run"]
    assert _complete(script, bindir, ["runbook", "run", "sc"], 2) == ["scenario"]
    assert _complete(script, bindir, ["runbook", "run", "scenario", "-e", "comm"], 4) == ["commit="]
    assert _complete(script, bindir, ["runbook", "run", "scenario", "-e", "payments", "="], 5) == ["off", "on"]
    assert _complete(script, bindir, ["runbook", "run", "scenario", "-e", "payments", "=", "o"], 6) == ["off", "on"]
    assert "--list-hosts" in _complete(script, bindir, ["runbook", "run", "scenario", "--list"], 3)
