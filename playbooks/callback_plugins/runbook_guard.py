# SPDX-License-Identifier: GPL-3.0-or-later
"""runbook.ops.runbook_guard, found next to the playbooks whatever the configuration.

ansible-playbook loads every callback plugin in the ``callback_plugins/`` folder
next to the playbooks it is given, with no setting, so CI's direct
``ansible-playbook playbooks/X.yml -e ...`` is guarded even under a team's own
ansible.cfg or ansible-runner's ANSIBLE_CALLBACK_PLUGINS. The code is the
collection's (collections/ansible_collections/runbook/ops/plugins/callback/);
it is loaded by its path because that collection may not be on the caller's
collections path. When the project's ansible.cfg also enables the collection's
callback, the check runs twice: both are silent on good input and the first
refusal ends the run.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

DOCUMENTATION = """
    name: runbook_guard
    type: aggregate
    short_description: Loads runbook.ops.runbook_guard next to the playbooks
    description:
      - See C(ansible-doc -t callback runbook.ops.runbook_guard).
"""

_SOURCE = (
    Path(__file__).resolve().parents[2]
    / "collections" / "ansible_collections" / "runbook" / "ops" / "plugins" / "callback" / "runbook_guard.py"
)
_SPEC = importlib.util.spec_from_file_location("runbook_ops_runbook_guard_adjacent", _SOURCE)
assert _SPEC is not None and _SPEC.loader is not None
_GUARD = importlib.util.module_from_spec(_SPEC)
# registered first, as an import would: its dataclasses look their module up by name
sys.modules[_SPEC.name] = _GUARD
_SPEC.loader.exec_module(_GUARD)

CallbackModule = _GUARD.CallbackModule
