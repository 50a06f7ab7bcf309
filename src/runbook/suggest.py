# SPDX-License-Identifier: GPL-3.0-or-later
"""Did you mean ...? for a mistyped scenario or variable name."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

# How alike a typo and a known name must be (difflib's ratio): outge/outage 0.91, comit/commit 0.91.
CUTOFF = 0.75


def did_you_mean(given: str, known: Iterable[str]) -> str:
    """"; did you mean NAME?" for the closest known name, or "" when none is close."""
    close = difflib.get_close_matches(given, sorted(set(known)), n=1, cutoff=CUTOFF)
    return f"; did you mean {close[0]}?" if close else ""
