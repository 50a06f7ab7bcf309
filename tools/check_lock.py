# SPDX-License-Identifier: GPL-3.0-or-later
"""Check that a venv holds exactly requirements.lock: same packages, same versions.

    python tools/check_lock.py [LOCK]     # run with the venv's python

`pip freeze --all` (pip and setuptools included, the editable project left out)
must list the lock's pins and nothing else. Prints each difference and exits 1,
or prints one line and exits 0.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "requirements.lock"
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)")


def canonical(name: str) -> str:
    """PEP 503 normalisation: PyYAML, pyyaml and py_yaml are one name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(lines: list[str]) -> dict[str, str]:
    """name -> version from `name==version` lines (lock or freeze), other lines ignored."""
    found: dict[str, str] = {}
    for line in lines:
        match = PIN.match(line.strip())
        if match:
            found[canonical(match[1])] = match[2]
    return found


def frozen() -> dict[str, str]:
    output = subprocess.run([sys.executable, "-m", "pip", "freeze", "--all", "--exclude-editable"],
                            check=True, capture_output=True, text=True).stdout
    return pins(output.splitlines())


def differences(locked: dict[str, str], installed: dict[str, str]) -> list[str]:
    problems = []
    for name in sorted(locked.keys() | installed.keys()):
        want, have = locked.get(name), installed.get(name)
        if want is None:
            problems.append(f"{name}=={have} is installed but not in the lock")
        elif have is None:
            problems.append(f"{name}=={want} is locked but not installed")
        elif want != have:
            problems.append(f"{name} is {have}, the lock says {want}")
    return problems


def main(argv: list[str]) -> int:
    lock = Path(argv[0]) if argv else LOCK
    locked = pins(lock.read_text(encoding="utf-8").splitlines())
    problems = differences(locked, frozen())
    for problem in problems:
        print(f"check_lock: {problem}", file=sys.stderr)
    if problems:
        return 1
    print(f"check_lock: the venv holds exactly {lock.name} ({len(locked)} packages)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
