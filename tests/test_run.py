# SPDX-License-Identifier: GPL-3.0-or-later
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
import textwrap
import time
from pathlib import Path

import pytest

from conftest import PLANTED_DOTENV_SECRET, PLANTED_ENVIRONMENT_SECRET, PLANTED_EXTRA_VAR_SECRET, readable_events
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
    # live progress, plain lines off a terminal: quiet by default (debug messages, changes, failures)
    assert "localhost: lock token " in out
    assert "TASK" not in out and "Read the app environment file" not in out
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
    assert "localhost: Use the token - changed" in captured.err  # progress goes to stderr with --json


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
    assert main(["run", "scenario", "--no-such-option"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("runbook: error: ") and err.count("\n") == 1


def test_limit_matching_no_host_exits_2_keeping_the_record_without_a_report(
    project: Path, runs: Path, inventory: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", "scenario", "-i", str(inventory), "-l", "nosuchhost"]) == 2
    err = capsys.readouterr().err
    folder = only_run(runs)
    assert err == (f"runbook: error: limit 'nosuchhost' matched no host for scenario (it acts on hosts: "
                   f"app_servers; inventory: {inventory}); ansible-playbook said: Could not match supplied host "
                   f"pattern, ignoring: nosuchhost; record: {folder}\n")
    record = json.loads((folder / "run.json").read_text())
    assert record["result"] == "error" and record["exit_code"] == 2 and record["hosts"] == []
    assert (folder / "stdout").is_file() and not (folder / "report.md").exists()


def test_a_missing_default_inventory_is_named(project: Path, runs: Path, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    (project / "ansible.cfg").write_text((project / "ansible.cfg").read_text().replace(
        "[defaults]", "[defaults]\ninventory = inventory/production.yml", 1))
    assert main(["run", "scenario"]) == 2
    err = capsys.readouterr().err
    default = project / "inventory" / "production.yml"
    assert (f"inventory: {default} (ansible.cfg's inventory; give yours with -i)); "
            f"ansible-playbook said: {default} does not exist;") in err, err


def test_failure_on_a_host_exits_1(
    project: Path, runs: Path, inventory: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", "scenario", "-i", str(inventory), "-e", "fail_step=yes"]) == 1
    out = capsys.readouterr().out
    assert "localhost: Fail on purpose - failed" in out and "planned failure" in out
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
    assert "ghost: Read the app environment file - unreachable" in capsys.readouterr().out
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


# Ansible's own options: -u, -b, --become-user, --private-key, --diff, --tags, --skip-tags, -f, -e @FILE

# A scenario that says who runs its module and names the processes above it. Under
# `-b --become-user nobody` with the become method su (root needs no password for it) the
# module runs as nobody with `su` among its ancestors; without -b as the test's own user.
PROBE_PLAYBOOK = """\
- name: Runbook B | Become probe
  hosts: app_servers
  gather_facts: false
  vars:
    runbook_scenario:
      title: Become probe
      section: "B"
      severity: P3
      tags: [probe, token]
      extra_vars:
        api_token:
          description: A token
          default: ""
        sleep_seconds:
          description: Seconds to wait
          default: 0
          type: int
  tasks:
    - name: Name the user and the processes above the module
      ansible.builtin.shell: |
        id -un
        p=$$
        while [ "$p" -gt 1 ]; do cat /proc/$p/comm; p=$(cut -d' ' -f4 /proc/$p/stat); done
      register: probe_ancestry
      changed_when: false
      tags: [probe]

    - name: Publish them
      ansible.builtin.set_stats:
        data:
          probe_user: "{{ probe_ancestry.stdout_lines[0] }}"
          probe_ancestry: "{{ probe_ancestry.stdout_lines[1:] }}"
      tags: [probe]

    - name: Wait a little
      ansible.builtin.wait_for:
        timeout: "{{ sleep_seconds | default(0) | int }}"
      when: sleep_seconds | default(0) | int > 0
      tags: [probe]

    - name: Use the token
      ansible.builtin.command: echo "token={{ api_token | default('') }}"
      changed_when: true
      tags: [token]
"""
# Stands in for release_lock.yml: says who ran its module (the output lands in release.log).
RELEASE_PROBE_PLAYBOOK = """\
- name: Give the run lock back (probe)
  hosts: all
  gather_facts: false
  tasks:
    - name: Name the user
      ansible.builtin.command: id -un
      register: release_user
      changed_when: false

    - name: Say who gave the lock back
      ansible.builtin.debug:
        msg: "release ran as {{ release_user.stdout }}"
"""
LOGIN_SECRET = "login-PLANTEDpassword-1234"
SYSTEM_PYTHON = Path("/usr/bin/python3")
# Becoming nobody: root may su to anyone without a password; nobody can read neither the venv nor
# root's temporary files, so the module runs with the system python and through a pipe.
needs_su = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("su") is None or not SYSTEM_PYTHON.is_file()
    or not Path("/proc/self/stat").is_file(),
    reason="becomes nobody with su as root; reads process ancestry from /proc")


def ran_command(folder: Path) -> list[str]:
    """The ansible-playbook command line ansible-runner ran (its `command` artifact)."""
    return json.loads((folder / "command").read_text())["command"]


@pytest.fixture
def probe(project: Path) -> Path:
    path = project / "playbooks" / "probe.yml"
    path.write_text(PROBE_PLAYBOOK)
    return path


@pytest.fixture
def su_inventory(tmp_path: Path) -> Path:
    path = tmp_path / "su-inventory.yml"
    path.write_text(textwrap.dedent(f"""\
        app_servers:
          hosts:
            localhost:
              ansible_connection: local
              ansible_python_interpreter: {SYSTEM_PYTHON}
              ansible_pipelining: true
              ansible_become_flags: -s /bin/sh
        """))
    return path


@needs_su
def test_ansible_options_reach_ansible_playbook_and_the_record(
    probe: Path, runs: Path, su_inventory: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = tmp_path / "id_test"
    key.write_text("not a real key\n")
    vars_file = tmp_path / "vars.yml"
    vars_file.write_text(f"api_token: {PLANTED_EXTRA_VAR_SECRET}\nansible_become_method: su\n")
    argv = ["run", "probe", "-i", str(su_inventory), "-u", "root", "-b", "--become-user", "nobody",
            "--private-key", str(key), "--diff", "--tags", "probe,token", "--skip-tags", "token", "-f", "3",
            "-e", f"@{vars_file}", "-e", f"ansible_password={LOGIN_SECRET}"]
    assert main(argv) == 0
    captured = capsys.readouterr()
    folder = only_run(runs)
    command = ran_command(folder)
    assert command[1:command.index("-i")] == [
        "--user", "root", "--become", "--become-user", "nobody", "--private-key", str(key.resolve()),
        "--diff", "--tags", "probe,token", "--skip-tags", "token", "--forks", "3"]
    record = json.loads((folder / "run.json").read_text())
    # -b --become-user really became nobody through su; --skip-tags won over --tags for the token step
    assert record["published"]["probe_user"] == "nobody"
    assert "su" in record["published"]["probe_ancestry"]
    assert "Use the token" not in (folder / "report.md").read_text()
    assert record["extra_vars"] == {"api_token": "********", "ansible_become_method": "su",
                                    "ansible_password": "********"}
    assert record["command"] == (
        f"runbook run probe -i {su_inventory} -e @{vars_file} -e ansible_password=******** -u root "
        f"--become-user nobody --private-key {key} -f 3 --tags probe,token --skip-tags token -b --diff")
    for secret in (LOGIN_SECRET, PLANTED_EXTRA_VAR_SECRET):
        assert secret not in everything_under(runs) and secret not in captured.out + captured.err


@needs_su
def test_without_become_no_su_runs_and_no_option_is_added(
    probe: Path, runs: Path, su_inventory: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", "probe", "-i", str(su_inventory), "--tags", "probe"]) == 0
    folder = only_run(runs)
    command = ran_command(folder)
    assert command[1:command.index("-i")] == ["--tags", "probe"]
    published = json.loads((folder / "run.json").read_text())["published"]
    assert published["probe_user"] == "root" and "su" not in published["probe_ancestry"]


@needs_su
def test_the_lock_is_given_back_with_the_runs_login_and_become(
    probe: Path, project: Path, runs: Path, su_inventory: Path
) -> None:
    (project / "playbooks" / "internal" / "release_lock.yml").write_text(RELEASE_PROBE_PLAYBOOK)
    proc = subprocess.Popen([sys.executable, "-m", "runbook", "run", "probe", "-i", str(su_inventory),
                             "-b", "--become-user", "nobody", "-e", "ansible_become_method=su",
                             "-e", "sleep_seconds=30"],
                            env=dict(os.environ), text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_for_task(runs, "Wait a little", proc)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=90)
    finally:
        proc.kill()
    assert proc.returncode == 130, out + err
    assert "the run lock was given back" in out, out + err
    release_log = (only_run(runs) / "release.log").read_text()
    assert "release ran as nobody" in release_log, release_log


def wait_for_task(runs: Path, task: str, proc: subprocess.Popen[str]) -> None:
    """Block until the run has started the task (its start event is written)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"the run ended early: {proc.communicate()}")
        for event in readable_events(runs):
            if event.get("event") == "runner_on_start" and event.get("event_data", {}).get("task") == task:
                time.sleep(1)  # the module runs
                return
        time.sleep(0.1)
    pytest.fail(f"the run never reached {task!r}")


def test_the_scenarios_tags_are_listed_and_only_they_are_accepted(
    probe: Path, runs: Path, inventory: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["list", "--json"]) == 0
    listed = {item["name"]: item for item in json.loads(capsys.readouterr().out)["scenarios"]}
    assert listed["probe"]["tags"] == ["probe", "token"]
    assert listed["scenario"]["tags"] == []
    for argv, message in (
        (["probe", "--tags", "probe,restart"], "probe has no tag 'restart' (its tags: probe, token)"),
        (["probe", "--skip-tags", "always"], "--skip-tags always would skip the input checks and the run lock"),
        (["scenario", "--skip-tags", "x,always"], "--skip-tags always would skip"),
        (["scenario", "--tags", "a b"], "--tags 'a b' is not a tag name"),
    ):
        assert main(["run", *argv, "-i", str(inventory)]) == 2, argv
        err = capsys.readouterr().err
        assert err.startswith(f"runbook: error: {message}") and err.count("\n") == 1, err
    assert run_folders(runs) == []


def test_bad_ansible_options_exit_2_in_one_line_and_run_nothing(
    project: Path, runs: Path, inventory: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "list.yml").write_text("- commit=abc1234\n")
    (tmp_path / "template.yml").write_text("payments: 'on'\nansible_host:\n  deep: ['{{ lookup(\"pipe\", \"id\") }}']\n")
    (tmp_path / "wrong.yml").write_text("commit: main\n")
    cases = [
        (["--private-key", str(tmp_path / "missing")], f"--private-key '{tmp_path / 'missing'}': no such file"),
        (["-f", "0"], "-f/--forks 0: give 1 to 100"),
        (["--forks", "101"], "-f/--forks 101: give 1 to 100"),
        (["-f", "x"], "argument -f/--forks: invalid int value"),
        (["-u", "a b"], "-u/--user 'a b' is not a user name"),
        (["--become-user", "-x"], "argument --become-user: expected one argument"),
        (["-e", f"@{tmp_path / 'missing.yml'}"], f"-e @{tmp_path / 'missing.yml'}: no such file"),
        (["-e", f"@{tmp_path / 'list.yml'}"], "must hold a mapping of variable names to values"),
        (["-e", f"@{tmp_path / 'template.yml'}"], "-e ansible_host: the value contains a template marker"),
        (["-e", f"@{tmp_path / 'wrong.yml'}"], "-e commit='main' is not accepted"),
        (["-e", "ansible_ssh_common_args=-oProxyCommand=id"], "scenario does not accept -e ansible_ssh_common_args"),
        (["-e", "ansible_private_key_file=/nonexistent"], "-e ansible_private_key_file '/nonexistent': no such file"),
    ]
    for extra, message in cases:
        assert exit_code_of(["run", "scenario", "-i", str(inventory), *extra]) == 2, extra
        err = capsys.readouterr().err
        assert err.startswith("runbook: error: ") and message in err and err.count("\n") == 1, (extra, err)
    assert run_folders(runs) == []


def exit_code_of(argv: list[str]) -> int:
    """main's return value, or the exit code of a usage error (argparse exits)."""
    try:
        return main(argv)
    except SystemExit as exc:
        return int(exc.code or 0)


def test_python_warnings_stay_off_the_screen_and_go_into_the_record(
    project: Path, runs: Path, inventory: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path
) -> None:
    """An upstream package that warns at import (cryptography 51 under ansible-core 2.19 did)
    prints into ansible-playbook's output; the operator sees the run, run.json keeps the
    warning, and the record names the tool and the ansible-core that ran."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(
        "import warnings\nwarnings.warn('an upstream package is deprecated', UserWarning)\n")
    monkeypatch.setenv("PYTHONPATH", str(site))
    assert main(["run", "scenario", "-i", str(inventory), "--json"]) == 0
    captured = capsys.readouterr()
    folder = only_run(runs)
    assert "an upstream package is deprecated" in (folder / "stdout").read_text()  # ansible-playbook warned
    assert "deprecated" not in captured.out and "UserWarning" not in captured.err
    record = json.loads((folder / "run.json").read_text())
    assert len(record["warnings"]) == 1
    assert record["warnings"][0].endswith(": UserWarning: an upstream package is deprecated")
    from ansible.release import __version__ as core

    import runbook
    assert record["runbook_version"] == runbook.__version__ != "0+unknown"
    assert record["ansible_core_version"] == core


def test_a_run_without_python_warnings_records_none(
    project: Path, runs: Path, inventory: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", "scenario", "-i", str(inventory)]) == 0
    assert json.loads((only_run(runs) / "run.json").read_text())["warnings"] == []
