# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""systemd's answers (`systemctl show`, `systemctl list-units --failed`) as data: pure functions."""

from __future__ import annotations

from ansible_collections.runbook.ops.plugins.module_utils.runbook_times import iso


UNIT_PROPERTIES = ("Id", "LoadState", "ActiveState", "SubState", "NRestarts", "StateChangeTimestamp",
                   "ActiveEnterTimestamp", "InactiveEnterTimestamp", "InactiveExitTimestamp", "ActiveExitTimestamp")
# The time `systemctl status` shows after "since", per state.
SINCE_PROPERTY = {"active": "ActiveEnterTimestamp", "reloading": "ActiveEnterTimestamp",
                  "inactive": "InactiveEnterTimestamp", "failed": "InactiveEnterTimestamp",
                  "activating": "InactiveExitTimestamp", "deactivating": "ActiveExitTimestamp"}


def show_argv(names):
    """The one `systemctl show` call that reads the units."""
    return ["systemctl", "show", "--timestamp=unix", "-p", ",".join(UNIT_PROPERTIES), "--"] + list(names)


def parse_systemctl_show(text, names):
    """The units of `systemctl show -p ... --timestamp=unix NAME...`, in the order of names."""
    blocks = [block for block in text.strip().split("\n\n") if block.strip()]
    units = []
    for name, block in zip(names, blocks):
        props = dict(line.split("=", 1) for line in block.splitlines() if "=" in line)
        active = props.get("ActiveState", "unknown")
        stamp = props.get(SINCE_PROPERTY.get(active, ""), "") or props.get("StateChangeTimestamp", "")
        since = int(stamp[1:]) if stamp.startswith("@") and stamp[1:].isdigit() else None
        restarts = props.get("NRestarts", "")
        state = "not-found" if props.get("LoadState") == "not-found" else active
        units.append({"name": name, "state": state, "sub_state": props.get("SubState", ""),
                      "since": iso(since), "since_epoch": since,
                      "restarts": int(restarts) if restarts.isdigit() else None})
    return units


def parse_failed_units(text):
    """Unit names of `systemctl list-units --failed --plain --no-legend`."""
    return [line.split()[0] for line in text.splitlines() if line.strip()]
