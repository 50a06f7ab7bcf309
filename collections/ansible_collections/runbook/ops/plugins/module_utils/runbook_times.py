# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Times as the runbook shows them (2026-11-29T12:04:36Z), and Docker's: pure functions."""

from __future__ import annotations

import re
from datetime import datetime, timezone


ISO = "%Y-%m-%dT%H:%M:%SZ"
DOCKER_TIME = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.\d+)?(Z|[+-]\d\d:\d\d)$")


def iso(epoch):
    """An epoch as 2026-11-29T12:04:36Z, or '' for none."""
    if epoch is None:
        return ""
    return datetime.fromtimestamp(epoch, timezone.utc).strftime(ISO)


def epoch_of(text):
    """Seconds since the epoch of a time as the runbook writes them (2026-11-29T12:04:36Z); None otherwise."""
    try:
        return datetime.strptime(str(text), ISO).replace(tzinfo=timezone.utc).timestamp()
    except ValueError:
        return None


def docker_epoch(text):
    """Seconds since the epoch of a Docker time (2026-11-29T12:04:47.318342316Z); None for Docker's zero time."""
    found = DOCKER_TIME.match(text or "")
    if not found or found.group(1).startswith("0001-"):
        return None
    zone = "+00:00" if found.group(2) == "Z" else found.group(2)
    return datetime.fromisoformat(found.group(1) + zone).timestamp()
