"""`runbook run` end to end: the real ansible-runner and ansible-playbook against
this machine (connection local), with a throwaway project and runs directory.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import PLANTED_DOTENV_SECRET, PLANTED_ENVIRONMENT_SECRET, PLANTED_EXTRA_VAR_SECRET
from runbook.cli import main


def run_folders(runs: Path) -> list[Path]:
    return sorted(path for path in runs.iterdir() if path.is_dir()) if runs.exists() else []


def only_run(runs: Path) -> Path:
    folders = run_folders(runs)
    assert len(folders) == 1, folders
    return folders[0]


def everything_under(folder: Path) -> str:
    return "\n".join(path.read_text(errors="replace") for path in folder.rglob("*") if path.is_file())


def test_successful_run_keeps_a_record_and_writes_the_report(
    project: Path, runs: Path, inventory: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", "scenario", "-i", str(inventory), "-e", "commit=HEAD~2", "-e", "payments=on"]) == 0
    out = capsys.readouterr().out
    # live progress, plain lines off a terminal
    assert "TASK Read the app environment file" in out
    assert "  localhost: ok" in out
    assert "Succeeded (exit 0)" in out

    folder = only_run(runs)
    assert (folder / "job_events").is_dir() and (folder / "stdout").is_file()
    assert not (folder / "fact_cache").exists()
    assert not list(folder.rglob("extravars"))
    record = json.loads((folder / "run.json").read_text())
    assert record["scenario"] == "scenario"
    assert record["result"] == "ok" and record["exit_code"] == 0
    assert record["hosts"] == ["localhost"]
    assert record["extra_vars"] == {"commit": "HEAD~2", "payments": "on"}
    # a fresh lock token per run, kept in run.json and passed to the playbook (not among the -e values)
    assert re.fullmatch(r"[0-9a-f]{16}", record["lock_token"])
    assert f"lock token {record['lock_token']}" in out
    # the project's roles_path applied: the role's set_stats values were published
    assert record["published"] == {"commit_rolled_back_to": "abc1234", "bytes_freed": 4096}

    report = (folder / "report.md").read_text()
    assert "# Incident Report: Test scenario" in report
    assert "**Severity:** P1" in report
    assert "localhost: Read the app environment file - ok" in report
    assert "| `commit_rolled_back_to` | abc1234 |" in report
    assert "```mermaid\ngantt" in report


def test_no_secret_reaches_the_runs_directory_or_the_output(
    project: Path, runs: Path, inventory: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUNBOOK_TEST_PLANTED", PLANTED_ENVIRONMENT_SECRET)
    code = main(["run", "scenario", "-i", str(inventory), "-e", f"api_token={PLANTED_EXTRA_VAR_SECRET}", "--json"])
    captured = capsys.readouterr()
    assert code == 0
    folder = only_run(runs)
    assert (folder / "command").is_file()
    kept = everything_under(runs)
    for secret in (PLANTED_DOTENV_SECRET, PLANTED_EXTRA_VAR_SECRET, PLANTED_ENVIRONMENT_SECRET):
        assert secret not in kept
        assert secret not in captured.out
        assert secret not in captured.err
    # the task that used the token did run, and ansible's no_log censored the .env reads
    assert "Use the token - changed" in (folder / "report.md").read_text()
    assert "no_log: true" in kept
    assert "api_token=********" in json.loads((folder / "run.json").read_text())["command"]
    events = [json.loads(path.read_text()) for path in (folder / "job_events").glob("*.json")]
    assert events and all("task_args" not in event.get("event_data", {}) for event in events)
    summary = json.loads(captured.out)
    assert summary["result"] == "ok" and summary["exit_code"] == 0
    assert summary["run_id"] == folder.name
    assert summary["report"] == str(folder / "report.md")
    assert summary["stats"]["ok"]["localhost"] >= 3
    assert "TASK Use the token" in captured.err  # progress goes to stderr with --json


def test_bad_extra_var_exits_2_and_runs_nothing(
    project: Path, runs: Path, inventory: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for argv in (["-e", "bogus=1"], ["-e", "commit=main"], ["-e", "payments=maybe"], ["-e", "fail_step=2"],
                 ["-e", "justaname"], ["-i", str(inventory) + ".missing"], ["-e", "runbook_lock_token=0123abcd"],
                 ["-e", "payments={{ 'on' }}"], ["-e", "runbook_state_dir=/x{% raw %}"], ["-e", "app_domain={# c #}"]):
        assert main(["run", "scenario", "-i", str(inventory), *argv]) == 2, argv
        err = capsys.readouterr().err
        assert err.startswith("runbook: error: ") and err.count("\n") == 1, err
    assert main(["run", "nosuch", "-i", str(inventory)]) == 2
    assert run_folders(runs) == []


def test_a_template_in_an_extra_var_is_refused_naming_the_variable(
    project: Path, runs: Path, inventory: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", "wipe", "-i", str(inventory), "-e", "app_domain={{ lookup('pipe', 'id') }}"]) == 2
    err = capsys.readouterr().err
    assert err == ("runbook: error: -e app_domain: the value contains a template marker ({{, {% or {#); "
                   "give a plain value\n")
    assert not runs.exists()


@pytest.mark.parametrize("where", ["/proc/runbook-test/runs", "FILE/runs"])
def test_an_unwritable_runs_directory_is_one_line_exit_2_before_anything(
    where: str, project: Path, inventory: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "file").write_text("a regular file\n")
    runs = Path(where.replace("FILE", str(tmp_path / "file")))
    monkeypatch.setenv("RUNBOOK_RUNS_DIR", str(runs))
    # checked before the confirmation: a destructive scenario without --yes still gets exit 2, not 4
    for scenario in ("scenario", "wipe"):
        assert main(["run", scenario, "-i", str(inventory)]) == 2
        err = capsys.readouterr().err
        assert re.fullmatch(rf"runbook: error: cannot write runs under {re.escape(str(runs))}: "
                            r"[^\n]+ \(set RUNBOOK_RUNS_DIR\)\n", err), err
    assert not runs.exists()


def test_signal_handlers_are_restored_after_a_run(
    project: Path, runs: Path, inventory: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    assert main(["run", "scenario", "-i", str(inventory)]) == 0
    assert {signum: signal.getsignal(signum) for signum in before} == before


def test_usage_errors_are_one_line_exit_2(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["run"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("runbook: error: ") and err.count("\n") == 1


def test_limit_matching_no_host_exits_2_without_a_record(
    project: Path, runs: Path, inventory: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", "scenario", "-i", str(inventory), "-l", "nosuchhost"]) == 2
    assert "matched no host" in capsys.readouterr().err
    assert run_folders(runs) == []


def test_failure_on_a_host_exits_1(
    project: Path, runs: Path, inventory: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", "scenario", "-i", str(inventory), "-e", "fail_step=yes"]) == 1
    out = capsys.readouterr().out
    assert "localhost: failed" in out and "planned failure" in out
    folder = only_run(runs)
    assert json.loads((folder / "run.json").read_text())["result"] == "failed"
    report = (folder / "report.md").read_text()
    assert "**Failed (exit 1)**" in report
    assert "Fail on purpose failed: planned failure in the test scenario" in report


@pytest.mark.skipif(shutil.which("ssh") is None, reason="needs an ssh client")
def test_unreachable_host_exits_3(
    project: Path, runs: Path, unreachable_inventory: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", "scenario", "-i", str(unreachable_inventory)]) == 3
    assert "ghost: unreachable" in capsys.readouterr().out
    record = json.loads((only_run(runs) / "run.json").read_text())
    assert record["result"] == "unreachable" and record["hosts"] == ["ghost"]


def test_check_mode_is_passed_through(
    project: Path, runs: Path, inventory: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", "scenario", "-i", str(inventory), "--check"]) == 0
    folder = only_run(runs)
    command = json.loads((folder / "command").read_text())["command"]
    assert "--check" in command
    assert json.loads((folder / "run.json").read_text())["check"] is True
    assert "check (dry run" in (folder / "report.md").read_text()


def cli(*args: str, env: dict[str, str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "runbook", *args], env=env, text=True,
                          capture_output=True, timeout=120, **kwargs)


def test_destructive_scenario_needs_yes_without_a_terminal(project: Path, runs: Path, inventory: Path) -> None:
    env = dict(os.environ)
    refused = cli("run", "wipe", "-i", str(inventory), env=env, stdin=subprocess.DEVNULL)
    assert refused.returncode == 4, refused.stderr
    assert refused.stderr.startswith("runbook: refused: wipe is destructive")
    assert run_folders(runs) == []
    accepted = cli("run", "wipe", "-i", str(inventory), "--yes", env=env, stdin=subprocess.DEVNULL)
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
    assert len(run_folders(runs)) == 1


def test_a_check_run_of_a_destructive_scenario_needs_no_yes(project: Path, runs: Path, inventory: Path) -> None:
    checked = cli("run", "wipe", "-i", str(inventory), "--check", env=dict(os.environ), stdin=subprocess.DEVNULL)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "destructive" not in checked.stderr
    folder = only_run(runs)
    assert "--check" in json.loads((folder / "command").read_text())["command"]
    record = json.loads((folder / "run.json").read_text())
    assert record["check"] is True and record["result"] == "ok"


def test_history_and_report(project: Path, runs: Path, inventory: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["history"]) == 0
    assert "no runs kept" in capsys.readouterr().out
    assert main(["run", "scenario", "-i", str(inventory)]) == 0
    assert main(["run", "scenario", "-i", str(inventory), "-e", "fail_step=true"]) == 1
    capsys.readouterr()

    assert main(["history", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [row["result"] for row in rows] == ["ok", "failed"]
    assert all(row["scenario"] == "scenario" and row["hosts"] == ["localhost"] for row in rows)
    assert all(row["duration"] > 0 for row in rows)

    assert main(["history"]) == 0
    table = capsys.readouterr().out
    assert "RUN ID" in table and "DURATION" in table
    assert rows[0]["id"] in table and " failed" in table

    first = runs / rows[0]["id"]
    (first / "report.md").unlink()
    assert main(["report", rows[0]["id"]]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("# Incident Report: Test scenario")
    assert (first / "report.md").read_text() == printed

    assert main(["report", "nosuchrun"]) == 2
    assert capsys.readouterr().err.startswith("runbook: error: no run 'nosuchrun'")


def test_a_playbook_ansible_cannot_load_fails_with_its_error_shown(
    project: Path, runs: Path, inventory: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = (project / "playbooks" / "wipe.yml").read_text().replace(
        "ansible.builtin.debug:", "no.such.module_xyz:").replace("destructive: true", "destructive: false")
    (project / "playbooks" / "broken.yml").write_text(broken)
    assert main(["run", "broken", "-i", str(inventory)]) == 1
    out = capsys.readouterr().out
    assert "no.such.module_xyz" in out
    record = json.loads((only_run(runs) / "run.json").read_text())
    assert record["result"] == "failed" and record["hosts"] == []
