#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the app's .env says about payments, without one secret value.

Reads the environment file on the host and returns, per Stripe key name, only
its mode (`live`, `test`, `missing`, `unknown`), whether the webhook secret is
there, whether the publishable and secret keys are both present and of the
same mode, the value of the switch ENABLE_STRIPE_PAYMENTS (not a secret), the
file's mode, and the host's UTC time (for the snapshot's name). Read-only.
"""

from __future__ import annotations

DOCUMENTATION = r"""
module: payments_switch_env
short_description: Report the payment keys' modes and the payments switch of an env file, never their values
version_added: 0.2.0
author: runbook maintainers (!UNKNOWN)
description:
  - Reads the app's env file on the host and returns, per Stripe key name, only its mode (C(live), C(test),
    C(missing), C(unknown)), whether the webhook secret is there, and whether the publishable and secret keys
    are both present and of the same mode.
  - Also returns the value of the payments switch O(switch) when it is a plain word (it is not a secret),
    the file's mode and the host's UTC time (for the name of a snapshot of the file).
  - No secret value leaves the host. The module only reads, and never reports a change.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - runbook.ops.read_only
attributes:
  platform:
    platforms: posix
options:
  path:
    description: The app's env file (C(.env)).
    type: path
    required: true
  switch:
    description: The variable that turns payments on and off.
    type: str
    default: ENABLE_STRIPE_PAYMENTS
"""

EXAMPLES = r"""
- name: Read the payment keys' modes and the payments switch from the app's .env (never a value)
  runbook.ops.payments_switch_env:
    path: /srv/app/.env
    switch: ENABLE_STRIPE_PAYMENTS
  register: payments_switch_env
  check_mode: false

- name: Show what the keys are
  ansible.builtin.debug:
    msg: "{{ payments_switch_env.keys_finding }}; payments {{ 'on' if payments_switch_env.enabled else 'off' }}"
"""

RETURN = r"""
keys:
  description:
    - The mode of each key by name, C(live), C(test), C(missing) or C(unknown), from its prefix.
    - The webhook secret is C(present) or C(missing).
  returned: always
  type: dict
  sample: {"STRIPE_SECRET_KEY": "live", "STRIPE_PUBLISHABLE_KEY": "live", "STRIPE_WEBHOOK_SECRET": "present"}
keys_consistent:
  description: Both the secret and the publishable key are present and of the same mode (live or test).
  returned: always
  type: bool
  sample: true
keys_finding:
  description: The keys' state in one sentence.
  returned: always
  type: str
  sample: both keys are live keys
switch_present:
  description: The env file sets O(switch).
  returned: always
  type: bool
  sample: true
enabled:
  description: O(switch) is C(true) (any case).
  returned: always
  type: bool
  sample: false
switch_value:
  description: The switch's value, lower case, when it is a plain word (true, false, yes, no, 1, 0, on, off or empty), else C((other)).
  returned: always
  type: str
  sample: "false"
path:
  description: The env file read.
  returned: always
  type: str
  sample: /srv/app/.env
mode:
  description: The env file's mode, in octal.
  returned: always
  type: str
  sample: "0600"
host_utc:
  description: The host's time in UTC, as C(YYYYMMDDTHHMMSSZ).
  returned: always
  type: str
  sample: 20261206T120000Z
"""

import os
import stat
import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.runbook.ops.plugins.module_utils.runbook_env import parse_env

SECRET_KEY = "STRIPE_SECRET_KEY"
PUBLISHABLE_KEY = "STRIPE_PUBLISHABLE_KEY"
WEBHOOK_SECRET = "STRIPE_WEBHOOK_SECRET"
SWITCH_WORDS = ("true", "false", "yes", "no", "1", "0", "on", "off", "")
PREFIXES = {SECRET_KEY: ("sk_", "rk_"), PUBLISHABLE_KEY: ("pk_",)}


def key_mode(name, value):
    """live, test, missing or unknown: what a Stripe key's prefix says, never the key."""
    if not value:
        return "missing"
    for prefix in PREFIXES.get(name, ()):
        if value.startswith(prefix + "live_"):
            return "live"
        if value.startswith(prefix + "test_"):
            return "test"
    return "unknown"


def summarise(values, switch):
    """The report: modes and presence only."""
    secret = key_mode(SECRET_KEY, values.get(SECRET_KEY, ""))
    publishable = key_mode(PUBLISHABLE_KEY, values.get(PUBLISHABLE_KEY, ""))
    consistent = secret == publishable and secret in ("live", "test")
    if consistent:
        finding = "both keys are %s keys" % secret
    elif "missing" in (secret, publishable):
        missing = [n for n, m in ((SECRET_KEY, secret), (PUBLISHABLE_KEY, publishable)) if m == "missing"]
        finding = "missing: %s" % ", ".join(missing)
    else:
        finding = "the keys' modes differ: %s is %s, %s is %s" % (SECRET_KEY, secret, PUBLISHABLE_KEY, publishable)
    return {
        "keys": {
            SECRET_KEY: secret,
            PUBLISHABLE_KEY: publishable,
            WEBHOOK_SECRET: "present" if values.get(WEBHOOK_SECRET) else "missing",
        },
        "keys_consistent": consistent,
        "keys_finding": finding,
        "switch_present": switch in values,
        "enabled": values.get(switch, "").strip().lower() == "true",
        # The switch's value is shown only when it is one of these words.
        "switch_value": (values.get(switch, "").strip().lower()
                         if values.get(switch, "").strip().lower() in SWITCH_WORDS else "(other)"),
    }


def main():
    module = AnsibleModule(
        argument_spec={"path": {"type": "path", "required": True},
                       "switch": {"type": "str", "default": "ENABLE_STRIPE_PAYMENTS"}},
        supports_check_mode=True,
    )
    path = module.params["path"]
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            text = fh.read()
        mode = "%04o" % stat.S_IMODE(os.stat(path).st_mode)
    except OSError as exc:
        module.fail_json(msg="Cannot read %s: %s" % (path, exc.strerror))
    result = summarise(parse_env(text), module.params["switch"])
    result.update(changed=False, path=path, mode=mode, host_utc=time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
