# SPDX-License-Identifier: GPL-3.0-or-later
"""Python warnings are told apart from a process's own output, and collected, not printed."""

from __future__ import annotations

import warnings

import pytest

from runbook.pywarnings import Collector, interpreter_warnings, without_warnings

# What ansible-core 2.19.14 printed with cryptography 51 on every start, around real output.
OUTPUT = """\
/venv/lib/python3.11/site-packages/ansible/_internal/_ssh/_ssh_agent.py:18: CryptographyDeprecationWarning: \
DSA is deprecated and support will be removed in a future release. Use a more modern signature algorithm.
  from cryptography.hazmat.primitives.asymmetric.dsa import (
runbook: refused -e commit: it contains a template marker
ERROR! the playbook: x.yml could not be found
"""


def test_the_warning_header_is_found_once() -> None:
    assert interpreter_warnings(OUTPUT + OUTPUT) == [OUTPUT.splitlines()[0]]


def test_without_warnings_keeps_every_other_line() -> None:
    assert without_warnings(OUTPUT.splitlines()) == [
        "runbook: refused -e commit: it contains a template marker",
        "ERROR! the playbook: x.yml could not be found",
    ]


@pytest.mark.parametrize("line", [
    "runbook: refused -e commit: it contains a template marker",
    "[WARNING]: Could not match supplied host pattern, ignoring: app_servers",
    "host1: Warning: disk 91% full",
    "  indented: 3: UserWarning: not a header",
])
def test_lines_that_only_look_like_warnings_are_kept(line: str) -> None:
    assert interpreter_warnings(line) == []
    assert without_warnings([line, "next"]) == [line, "next"]


def test_the_collector_keeps_warnings_off_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    collector = Collector().install()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("always")
            for _ in range(2):  # the same warning twice is kept once
                warnings.warn("old API", DeprecationWarning)
    finally:
        collector.uninstall()
    assert capsys.readouterr().err == ""
    assert len(collector.seen) == 1 and collector.seen[0].endswith(": DeprecationWarning: old API")
    assert warnings.showwarning is not collector._show  # pylint: disable=protected-access
