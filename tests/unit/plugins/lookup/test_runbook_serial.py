# SPDX-License-Identifier: GPL-3.0-or-later
"""runbook_serial: the play's batch size, from -e or the inventory (group_vars/host_vars), checked.

Ansible templates `serial` before any host's variables exist; the playbooks read it
through the runbook.ops.runbook_serial lookup, which reads the run's inventory.
These tests run the real ansible-playbook on hosts that are never contacted (a debug
task runs on the controller) and count the batches Ansible made.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from ansible.errors import AnsibleLookupError

from ansible_collections.runbook.ops.plugins.lookup import runbook_serial

ROOT = Path(__file__).resolve().parents[4]
PLAYBOOK = str(Path(sys.executable).parent / "ansible-playbook")
LOOKUP = runbook_serial
SERIAL_LINE = "{{ lookup('runbook.ops.runbook_serial', runbook_serial | default('')) }}"
HOSTS = ("fleet-a", "fleet-b", "fleet-c", "fleet-d")


def first_plays() -> dict[str, dict[str, Any]]:
    plays = {}
    for path in sorted((ROOT / "playbooks").glob("*.yml")):
        loaded = yaml.safe_load(path.read_text())
        plays[path.name] = loaded[0]
    return plays


@pytest.mark.parametrize(("value", "expected"), [(1, 1), ("1", 1), ("12", 12), (" 3 ", 3), ("1%", "1%"),
                                                  ("25%", "25%"), ("100%", "100%")])
def test_accepted_batch_sizes(value: Any, expected: Any) -> None:
    assert LOOKUP.check_serial(value) == expected


@pytest.mark.parametrize("value", [0, "0", "-1", "0%", "101%", "1.5", "12.5%", "all", "", True, None, [1, 2]])
def test_refused_batch_sizes_name_the_value_and_what_is_accepted(value: Any) -> None:
    with pytest.raises(AnsibleLookupError) as info:
        LOOKUP.check_serial(value)
    assert str(info.value) == (f"Refused runbook_serial={str(value)!r}: give a number of hosts per batch "
                               f"(1 or more) or a percentage of them (1% to 100%).")


def test_every_playbook_with_batches_reads_runbook_serial_and_stops_on_a_failed_batch() -> None:
    batched = {name: play for name, play in first_plays().items() if "serial" in play}
    assert {"rollback.yml", "deploy.yml", "outage.yml"} <= batched.keys()
    for name, play in batched.items():
        assert play["serial"] == SERIAL_LINE, name
        assert play["max_fail_percentage"] == 0, name


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("ANSIBLE_")}
    env.update(ANSIBLE_NOCOLOR="1", ANSIBLE_COLLECTIONS_PATH=str(ROOT / "collections"))
    return subprocess.run([PLAYBOOK, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture()
def probe(tmp_path: Path) -> Path:
    """A play with the playbooks' own serial line that shows each batch."""
    play = [{"name": "Fleet probe", "hosts": "app_servers", "gather_facts": False,
             "serial": first_plays()["rollback.yml"]["serial"],
             "tasks": [{"name": "Show the batch", "ansible.builtin.debug": {"msg": "batch {{ ansible_play_batch | join(',') }}"},
                        "run_once": True}]}]
    path = tmp_path / "probe.yml"
    path.write_text(yaml.safe_dump(play))
    return path


def inventory(folder: Path, group_vars: dict[str, Any] | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    hosts = {name: {"ansible_connection": "local"} for name in HOSTS}
    group: dict[str, Any] = {"hosts": hosts}
    if group_vars:
        group["vars"] = group_vars
    path = folder / "hosts.yml"
    path.write_text(yaml.safe_dump({"app_servers": group}))
    return path


def batches(result: subprocess.CompletedProcess[str]) -> list[str]:
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    return [line.split('"batch ')[1].rstrip('"') for line in result.stdout.splitlines() if '"msg": "batch ' in line]


def test_without_runbook_serial_every_host_is_one_batch(probe: Path, tmp_path: Path) -> None:
    hosts = inventory(tmp_path / "inv")
    assert batches(run("-i", str(hosts), str(probe), cwd=tmp_path)) == [",".join(HOSTS)]


def test_the_inventory_group_sets_the_batch_size(probe: Path, tmp_path: Path) -> None:
    hosts = inventory(tmp_path / "inv", {"runbook_serial": 1})
    assert batches(run("-i", str(hosts), str(probe), cwd=tmp_path)) == list(HOSTS)


def test_group_vars_next_to_the_inventory_set_it_and_e_wins(probe: Path, tmp_path: Path) -> None:
    hosts = inventory(tmp_path / "inv")
    (tmp_path / "inv" / "group_vars").mkdir()
    (tmp_path / "inv" / "group_vars" / "app_servers.yml").write_text('runbook_serial: "50%"\n')
    assert batches(run("-i", str(hosts), str(probe), cwd=tmp_path)) == ["fleet-a,fleet-b", "fleet-c,fleet-d"]
    assert batches(run("-i", str(hosts), str(probe), "-e", "runbook_serial=3", cwd=tmp_path)) == [
        "fleet-a,fleet-b,fleet-c", "fleet-d"]


def test_host_vars_of_the_first_host_count(probe: Path, tmp_path: Path) -> None:
    hosts = inventory(tmp_path / "inv")
    (tmp_path / "inv" / "host_vars").mkdir()
    (tmp_path / "inv" / "host_vars" / "fleet-a.yml").write_text("runbook_serial: 2\n")
    assert batches(run("-i", str(hosts), str(probe), cwd=tmp_path)) == ["fleet-a,fleet-b", "fleet-c,fleet-d"]


@pytest.mark.parametrize(("source", "shown"), [("inventory", "'0'"), ("extra", "'many'")])
def test_a_bad_value_stops_the_real_playbook_before_any_host(source: str, shown: str, tmp_path: Path) -> None:
    hosts = inventory(tmp_path / "inv", {"runbook_serial": "0"} if source == "inventory" else None)
    extra = ["-e", "runbook_serial=many"] if source == "extra" else []
    result = subprocess.run([PLAYBOOK, "-i", str(hosts), str(ROOT / "playbooks" / "rollback.yml"), *extra],
                            cwd=tmp_path, capture_output=True, text=True, timeout=120,
                            env={**os.environ, "ANSIBLE_NOCOLOR": "1"})
    assert result.returncode != 0
    assert (f"Refused runbook_serial={shown}: give a number of hosts per batch (1 or more) "
            f"or a percentage of them (1% to 100%).") in result.stderr
    assert "TASK [" not in result.stdout
