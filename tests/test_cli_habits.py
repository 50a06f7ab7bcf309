# SPDX-License-Identifier: GPL-3.0-or-later
"""ansible-playbook's habits in `runbook run`: -e as ansible-playbook reads it, -C, did-you-mean,
a JSON object for every --json run (refusals included), and a reader that stops early."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from runbook.cli import main


def only_record(runs: Path) -> dict[str, object]:
    folders = [path for path in runs.iterdir() if path.is_dir()]
    assert len(folders) == 1, folders
    return json.loads((folders[0] / "run.json").read_text())


@pytest.mark.parametrize("argument", ["commit=HEAD~2 payments=on", "commit=HEAD~2  payments='on'",
                                      '{"commit": "HEAD~2", "payments": "on"}', "{commit: HEAD~2, payments: 'on'}"],
                         ids=["two-assignments", "quoted", "json", "yaml-flow"])
def test_one_e_argument_carries_several_variables(argument: str, project: Path, runs: Path, inventory: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "scenario", "-i", str(inventory), "-e", argument]) == 0, capsys.readouterr().err
    assert only_record(runs)["extra_vars"] == {"commit": "HEAD~2", "payments": "on"}


@pytest.mark.parametrize(("argument", "message"), [
    ("commit='HEAD~2", "-e commit=\"'HEAD~2\" is not accepted"),  # one KEY=VALUE, not a commit
    ("commit=HEAD~2 justaword", "-e commit='HEAD~2 justaword' is not accepted"),
    ('{"commit": ', "-e {...}: not a valid JSON or YAML mapping"),
    ("[1, 2]", "-e expects KEY=VALUE"),
    ("payments=on commit={{ lookup('pipe', 'id') }}", "-e commit: the value contains a template marker"),
])
def test_a_bad_e_argument_is_one_line_and_runs_nothing(argument: str, message: str, project: Path, runs: Path,
                                                       inventory: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "scenario", "-i", str(inventory), "-e", argument]) == 2
    err = capsys.readouterr().err
    assert err.startswith("runbook: error: ") and message in err and err.count("\n") == 1, err
    assert not runs.exists() or not list(runs.iterdir())


@pytest.mark.parametrize(("argv", "suggestion"), [
    (["run", "scenari"], "unknown scenario 'scenari'; did you mean scenario? (known: "),
    (["run", "scenario", "-e", "comit=HEAD~1"], "scenario does not accept -e comit; did you mean commit? ("),
    (["run", "scenario", "-e", "app_repo_dri=/srv/app"], "-e app_repo_dri; did you mean app_repo_dir? ("),
])
def test_a_typo_gets_a_suggestion(argv: list[str], suggestion: str, project: Path, runs: Path, inventory: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*argv, "-i", str(inventory)]) == 2
    assert suggestion in capsys.readouterr().err


def test_no_suggestion_when_nothing_is_close(project: Path, runs: Path, inventory: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "zzzz", "-i", str(inventory)]) == 2
    assert "did you mean" not in capsys.readouterr().err


@pytest.mark.parametrize(("argv", "result", "code"), [
    (["run", "scenario", "-e", "bogus=1", "--json"], "bad_input", 2),
    (["run", "scenario", "--json", "--no-such-option"], "bad_input", 2),
    (["run", "wipe", "--json"], "refused", 4),
])
def test_json_refusals_print_a_json_object(argv: list[str], result: str, code: int, project: Path, runs: Path,
                                           inventory: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*argv, "-i", str(inventory)]) == code
    captured = capsys.readouterr()
    answer = json.loads(captured.out)
    assert answer["result"] == result and answer["exit_code"] == code
    assert captured.err == f"runbook: {'error' if code == 2 else 'refused'}: {answer['error']}\n"


def test_dash_c_is_check(project: Path, runs: Path, inventory: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "scenario", "-i", str(inventory), "-C"]) == 0
    record = only_record(runs)
    assert record["check"] is True


def test_a_reader_that_stops_early_gets_no_traceback(project: Path) -> None:
    """`runbook list | head -1`: the pipe closes after one line; runbook ends quietly."""
    reader = subprocess.Popen([sys.executable, "-m", "runbook", "list"], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, env=dict(os.environ))
    assert reader.stdout is not None and reader.stderr is not None
    reader.stdout.readline()
    reader.stdout.close()
    err = reader.stderr.read().decode()
    assert reader.wait(timeout=60) == 0, err
    assert "Traceback" not in err and "BrokenPipeError" not in err and err == ""


@pytest.mark.parametrize("argument", ["commit=HEAD~2 api_token=tok-PLANTEDsecret1",
                                      '{"commit": "HEAD~2", "api_token": "tok-PLANTEDsecret1"}'],
                         ids=["assignments", "json"])
def test_a_secret_among_several_variables_is_masked_in_the_record(argument: str, project: Path, runs: Path,
                                                                  inventory: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "scenario", "-i", str(inventory), "-e", argument]) == 0
    record = only_record(runs)
    assert "PLANTEDsecret1" not in json.dumps(record)
    assert "commit=HEAD~2 api_token=********" in str(record["command"]) or \
        '"api_token": "********"' in str(record["command"])
    assert "PLANTEDsecret1" not in capsys.readouterr().out


def test_every_inventory_given_is_used(project: Path, runs: Path, inventory: Path, tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    """-i a.yml -i b.yml acts on the hosts of both (the last one alone used to win)."""
    second = tmp_path / "second.yml"
    text = inventory.read_text().replace("    localhost:", "    second-host:\n      ansible_host: localhost")
    second.write_text(text)
    assert main(["run", "scenario", "-i", str(inventory), "-i", str(second)]) == 0, capsys.readouterr().err
    record = only_record(runs)
    assert record["hosts"] == ["localhost", "second-host"]
    assert record["inventory"] == f"{inventory}, {second}"
    assert f"-i {inventory} -i {second}" in str(record["command"])


def test_a_comma_host_list_is_an_inventory(project: Path, runs: Path, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    """-i host1,host2, as ansible-playbook takes it (the hosts are in no group: nothing matches app_servers)."""
    assert main(["run", "scenario", "-i", "nohost1.invalid,nohost2.invalid,"]) == 2
    err = capsys.readouterr().err
    assert "matched no host" in err and "not found" not in err


@pytest.mark.parametrize(("content", "said"), [
    ("app_servers:\n  hosts:\n    a: {\n",
     "ansible-playbook said: unable to parse {path}: Failed to parse inventory with 'auto' plugin: YAML parsing failed"),
    ("others:\n  hosts:\n    b:\n", "ansible-playbook said: Could not match supplied host pattern, ignoring: app_servers"),
], ids=["broken-yaml", "no-app-servers"])
def test_an_inventory_that_gives_no_host_says_why(content: str, said: str, project: Path, runs: Path, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """Ansible's own reason and the path tried, not one message for every inventory mistake; the record stays."""
    broken = tmp_path / "team.yml"
    broken.write_text(content)
    assert main(["run", "scenario", "-i", str(broken)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("runbook: error: the inventory matched no host for scenario") and err.count("\n") == 1
    assert f"(it acts on hosts: app_servers; inventory: {broken}); " in err, err
    assert said.format(path=broken) in err, err
    record = only_record(runs)
    assert record["result"] == "error" and record["exit_code"] == 2
    assert err.rstrip().endswith(f"record: {runs / record['run_id']}")


def test_a_value_with_blanks_stays_one_value(project: Path, runs: Path, inventory: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    """Words that are not all KEY=VALUE are one value, as the CLI always took them."""
    assert main(["run", "scenario", "-i", str(inventory), "-e", "api_token=tok-a b-PLANTED -x"]) == 0
    assert "PLANTED" not in json.dumps(only_record(runs))
