# SPDX-License-Identifier: GPL-3.0-or-later
"""Secret-leak scan: which .env values appear in which files.

Used by molecule verifies (the runs a scenario kept, molecule's own log) and
unit-tested in tests/test_leak_scan.py. Only names and file paths come back,
never a value, so a failing assertion cannot print the secret it found.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from urllib.parse import urlsplit

# Shorter values (NODE_ENV=production, PORT=3000, true) are ordinary words, not secrets.
MIN_LENGTH = 12


def secret_values(env_text: str, label: str = "", min_length: int = MIN_LENGTH) -> dict[str, str]:
    """{name: value} of an .env's values long enough to be secrets, and the password inside any URL."""
    found: dict[str, str] = {}
    for line in env_text.splitlines():
        name, sep, value = line.strip().removeprefix("export ").partition("=")
        value = value.strip().strip("'\"")
        if not sep or not name or name.startswith("#"):
            continue
        if len(value) >= min_length:
            found[f"{label}{name}"] = value
        password = urlsplit(value).password if "://" in value else None
        if password and len(password) >= 8:
            found[f"{label}{name} password"] = password
    return found


def files_under(*roots: Path) -> list[Path]:
    """Every regular file under the roots (a root that is a file counts itself; a missing one nothing)."""
    files: list[Path] = []
    for root in roots:
        if root.is_file():
            files.append(root)
        elif root.is_dir():
            files += sorted(path for path in root.rglob("*") if path.is_file())
    return files


def scan(files: Iterable[Path], secrets: dict[str, str]) -> list[str]:
    """"NAME in PATH" for every secret value found in a file (names and paths only)."""
    leaks = []
    for path in files:
        text = path.read_bytes().decode("utf-8", errors="replace")
        leaks += [f"{name} in {path}" for name, value in sorted(secrets.items()) if value in text]
    return leaks
