# SPDX-License-Identifier: GPL-3.0-or-later
"""Python's own warnings: kept out of the operator's output, kept in the run's record.

An upstream package can start warning overnight (cryptography 51 made every
ansible-playbook start print a two-line CryptographyDeprecationWarning). Such
lines say nothing about the incident. The CLI shows none of them live: those of
its own process are collected by `Collector`, those ansible-playbook printed are
read back from the run's stdout by `interpreter_warnings`, and both go into
run.json's `warnings`. `without_warnings` drops them from output quoted to the
operator.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from typing import Any, TextIO

# warnings.formatwarning: "<file>:<line>: <Category>: <message>", then the source line indented.
_HEADER = re.compile(r"^\S[^\n]*?:\d+: (?:[A-Za-z_][\w.]*\.)?[A-Za-z_]\w*Warning: ")


def _blocks(lines: list[str]) -> Iterator[tuple[bool, str]]:
    """(is part of a warning, line) for each line; a warning is its header and the indented lines after it."""
    inside = False
    for line in lines:
        if _HEADER.match(line):
            inside = True
        elif inside and not line.startswith((" ", "\t")):
            inside = False
        yield inside, line


def interpreter_warnings(text: str) -> list[str]:
    """The header line of each Python warning in a process's output, each once, in order."""
    found: list[str] = []
    for line in text.splitlines():
        header = line.rstrip("\r")
        if _HEADER.match(header) and header not in found:
            found.append(header)
    return found


def without_warnings(lines: list[str]) -> list[str]:
    """lines, less every Python warning (header and source line)."""
    return [line for inside, line in _blocks(lines) if not inside]


class Collector:
    """Collects the warnings of this process instead of printing them on stderr."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self._previous: Any = None

    def install(self) -> Collector:
        self._previous = warnings.showwarning
        warnings.showwarning = self._show
        return self

    def uninstall(self) -> None:
        if self._previous is not None:
            warnings.showwarning = self._previous
            self._previous = None

    def _show(self, message: Warning | str, category: type[Warning], filename: str, lineno: int,
              file: TextIO | None = None, line: str | None = None) -> None:
        header = f"{filename}:{lineno}: {category.__name__}: {message}"
        if header not in self.seen:
            self.seen.append(header)
