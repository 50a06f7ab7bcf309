#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The circuit breaker of `runbook triage --fix`: record a fix on the host, or refuse one too many."""

from __future__ import annotations

DOCUMENTATION = r"""
module: runbook_triage_fixes
short_description: Record a triage fix on the host, or refuse it when the circuit breaker is open
version_added: 0.2.0
author: runbook maintainers (!UNKNOWN)
description:
  - The fix log is C(triage-fixes.jsonl) under O(state_dir), one JSON object a line (epoch, time, scenario, operator,
    token), every time taken from the host's clock in UTC seconds, so controllers in other time zones count the same
    fixes.
  - When fewer than O(max_fixes) fixes of O(scenario) are recorded within the last O(window), the module appends
    this fix and returns C(allowed=true). Otherwise it appends nothing and returns C(allowed=false).
  - Reading, deciding and appending happen under a C(flock) of C(triage-fixes.jsonl.guard); the playbook also holds
    the run lock. The log is replaced atomically and keeps its last 500 entries.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: In check mode the module decides but records nothing.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  state_dir:
    description: Where the log lives (the contract's C(runbook_state_dir)); created (mode 0700) when missing.
    type: path
    required: true
  scenario:
    description: The scenario triage is about to run.
    type: str
    required: true
  max_fixes:
    description: How many fixes of one scenario the window allows (runbook_triage_max_fixes), 1 to 100.
    type: raw
    default: 3
  window:
    description: The window, a whole number and a unit s, m, h or d (runbook_triage_window), at most 7d.
    type: str
    default: 1h
  operator:
    description: Who runs the fix (user@controller), kept in the entry.
    type: str
    default: ''
  token:
    description: The fix's run token, kept in the entry.
    type: str
    default: ''
"""

EXAMPLES = r"""
- name: Record the fix, or refuse a fourth outage fix within the hour
  runbook.ops.runbook_triage_fixes:
    state_dir: /var/lib/runbook
    scenario: outage
    max_fixes: 3
    window: 1h
  register: triage_fix_recorded
"""

RETURN = r"""
allowed:
  description: True when the fix may run (and was recorded, outside check mode).
  returned: always
  type: bool
  sample: true
recent:
  description: The fixes of O(scenario) within the window before this one, oldest first.
  returned: always
  type: list
  elements: dict
  sample: [{"epoch": 1796554800, "time": "2026-12-06T18:20:00Z", "scenario": "outage", "operator": "ops@laptop",
            "token": "9f2c1e4a7b3d5f60"}]
entry:
  description: The entry appended, or null when nothing was recorded.
  returned: always
  type: dict
  sample: {"epoch": 1796555000, "time": "2026-12-06T18:23:20Z", "scenario": "outage", "operator": "ops@laptop",
           "token": "9f2c1e4a7b3d5f60"}
now:
  description: The host's clock when it decided, UTC seconds.
  returned: always
  type: int
  sample: 1796555000
window_seconds:
  description: O(window) in seconds.
  returned: always
  type: int
  sample: 3600
max_fixes:
  description: O(max_fixes) as a number.
  returned: always
  type: int
  sample: 3
path:
  description: The fix log.
  returned: always
  type: str
  sample: /var/lib/runbook/triage-fixes.jsonl
"""

import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.runbook.ops.plugins.module_utils.runbook_fix_log import (
    log_path, max_fixes, record_fix, window_seconds)


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            state_dir=dict(type="path", required=True),
            scenario=dict(type="str", required=True),
            max_fixes=dict(type="raw", default=3),
            window=dict(type="str", default="1h"),
            operator=dict(type="str", default=""),
            token=dict(type="str", default="", no_log=False),  # a run id shown in lock messages, not a secret
        ),
        supports_check_mode=True,
    )
    p = module.params
    try:
        window = window_seconds(p["window"])
        limit = max_fixes(p["max_fixes"])
    except ValueError as exc:
        module.fail_json(msg=str(exc))
    now = int(time.time())
    try:
        allowed, found, entry = record_fix(p["state_dir"], p["scenario"], now, window, limit, p["operator"],
                                           p["token"], write=not module.check_mode)
    except OSError as exc:
        module.fail_json(msg="the fix log %s could not be read or written: %s" % (log_path(p["state_dir"]), exc))
    module.exit_json(changed=False, allowed=allowed, recent=found, entry=entry, now=now, window_seconds=window,
                     max_fixes=limit, path=log_path(p["state_dir"]))


if __name__ == "__main__":
    main()
