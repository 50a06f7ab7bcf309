# SPDX-License-Identifier: GPL-3.0-or-later
"""Exit codes (see the contract) and the exceptions that carry them."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    FAILED = 1
    BAD_INPUT = 2
    UNREACHABLE = 3
    REFUSED = 4
    INTERRUPTED = 130


class BadInput(Exception):
    """The user asked for something we cannot do; nothing was run (exit 2)."""


class Refused(Exception):
    """A destructive scenario was not confirmed (exit 4)."""
