# SPDX-License-Identifier: GPL-3.0-or-later
"""requirements.lock: the whole tree, hashed, installed exactly, inside the wheel's ranges."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from loading import load_module

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "requirements.lock"
check_lock = load_module(ROOT / "tools" / "check_lock.py")


def entries() -> dict[str, tuple[str, list[str]]]:
    """name -> (version, hashes) of each requirement of the lock."""
    found: dict[str, tuple[str, list[str]]] = {}
    text = LOCK.read_text(encoding="utf-8")
    for block in re.split(r"\n(?=[A-Za-z0-9])", text):
        first = block.splitlines()[0]
        if first.startswith("#"):
            continue
        match = check_lock.PIN.match(first)
        assert match, f"not pinned with ==: {first}"
        found[check_lock.canonical(match[1])] = (match[2], re.findall(r"--hash=sha256:([0-9a-f]{64})", block))
    return found


def declared() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return [Requirement(text) for text in project["dependencies"] + project["optional-dependencies"]["test"]]


def test_every_package_is_pinned_with_its_hashes() -> None:
    locked = entries()
    assert len(locked) > 40
    for name, (_version, hashes) in locked.items():
        assert hashes, f"{name} has no hash"


def test_the_lock_satisfies_the_ranges_the_wheel_declares() -> None:
    locked = entries()
    for requirement in declared():
        name = check_lock.canonical(requirement.name)
        assert name in locked, f"{name} is declared but not locked"
        assert requirement.specifier.contains(locked[name][0]), f"{name}=={locked[name][0]} not in {requirement}"


def test_every_declared_range_has_an_upper_bound_and_a_tested_lower_bound() -> None:
    locked = entries()
    for requirement in declared():
        operators = {spec.operator for spec in requirement.specifier}
        assert "<" in operators and ">=" in operators, requirement
        lower = next(spec.version for spec in requirement.specifier if spec.operator == ">=")
        if requirement.name != "ansible-core":  # its lower end is tested by `make compat`
            assert lower == locked[check_lock.canonical(requirement.name)][0], requirement


def test_the_constraints_hold_in_the_lock() -> None:
    """cryptography 51 makes ansible-core 2.19 warn on every start: the lock keeps it out."""
    locked = entries()
    for line in (ROOT / "requirements-constraints.txt").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            requirement = Requirement(line)
            assert requirement.specifier.contains(locked[check_lock.canonical(requirement.name)][0]), line


def test_this_venv_holds_exactly_the_lock() -> None:
    if Path(sys.prefix) != ROOT / ".venv":
        pytest.skip("not run from the project's venv (make venv); make compat's venvs differ on purpose")
    locked = check_lock.pins(LOCK.read_text(encoding="utf-8").splitlines())
    assert check_lock.differences(locked, check_lock.frozen()) == []


def test_differences_name_each_kind() -> None:
    assert check_lock.differences({"a": "1", "b": "2", "c": "3"}, {"a": "1", "b": "9", "d": "4"}) == [
        "b is 9, the lock says 2",
        "c==3 is locked but not installed",
        "d==4 is installed but not in the lock",
    ]
    assert check_lock.pins(["PyYAML==6.0.4", "ruamel.yaml==0.19.1", "-e git+x#egg=y", "# c"]) == {
        "pyyaml": "6.0.4", "ruamel-yaml": "0.19.1"}


def test_a_direct_ansible_playbook_prints_no_python_warning() -> None:
    """What CI runs (ansible-playbook playbooks/X.yml) starts without an upstream warning on this lock."""
    from runbook.pywarnings import interpreter_warnings

    result = subprocess.run([str(Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,",
                             "--syntax-check", "playbooks/diagnose.yml"],
                            cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert interpreter_warnings(result.stdout + result.stderr) == []
