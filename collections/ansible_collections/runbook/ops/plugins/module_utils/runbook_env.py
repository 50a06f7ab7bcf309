# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Reading an app's env file (.env): shared by the roles' modules.

Modules import it as
``ansible_collections.runbook.ops.plugins.module_utils.runbook_env``; Ansible ships it
with every module of the collection that imports it.
"""

from __future__ import annotations


def parse_env(text):
    """{NAME: value} of an env file's KEY=value lines (comments, blanks and `export ` handled)."""
    values = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        name, value = line.split("=", 1)
        name = name.strip()
        if name.startswith("export "):
            name = name[len("export "):].strip()
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        values[name] = value
    return values
