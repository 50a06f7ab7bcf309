# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""``lookup('runbook_serial', runbook_serial | default(''))``: a play's ``serial``
(hosts per batch) from ``-e``, the play's vars or the inventory, checked.

Why a lookup
------------
Ansible templates a play's ``serial`` once, before it picks a host
(ansible/executor/playbook_executor.py, ``PlaybookExecutor.run``:
``variable_manager.get_vars(play=play)`` then ``play.post_validate``). Those
variables hold the extra vars, the play's vars and the inventory's host and
group *names*, but no host's variables: ``group_vars``/``host_vars`` are
per-host, and ``hostvars`` exists only once the first play has started
(``TaskQueueManager.run`` creates it). So ``{{ runbook_serial }}`` there never
sees the inventory, and neither does ``hostvars[...]`` in the first play.

This lookup reads the same inventory sources (``ansible_inventory_sources``,
i.e. ``-i`` or ansible.cfg's ``inventory``) with the run's own loader (so the
vault secrets and the ``group_vars``/``host_vars`` next to the playbook count
too) and takes ``runbook_serial`` of the first host of ``app_servers``: set it
for the group, the batch size is one for the whole play. It works the same for
a bare ``ansible-playbook``, under ansible-runner (the CLI) and in
``--syntax-check``.

Which value
-----------
1. the term, when not empty: ``runbook_serial`` given with ``-e`` or in the
   play's vars (a playbook that imports ours with ``vars:``);
2. else ``runbook_serial`` of the first host of ``app_servers`` in the inventory;
3. else ``100%``: every host at once, ``forks`` at a time.

The value must be a whole number of hosts per batch (1 or more) or a
percentage of them (``1%`` to ``100%``). Anything else stops the run before
any host is touched, with one message naming the value and what is accepted.
"""

from __future__ import annotations

DOCUMENTATION = r"""
name: runbook_serial
author: runbook maintainers (!UNKNOWN)
version_added: 0.2.0
short_description: A play's serial (hosts per batch) from -e, the play's vars or the inventory, checked
description:
  - Returns the batch size for a play's C(serial) keyword, which Ansible templates before it picks a host,
    when no host's variables (C(group_vars), C(host_vars)) are visible yet.
  - The value is the term when not empty (C(runbook_serial) given with C(-e) or in the play's vars); else
    C(runbook_serial) of the first host of the C(app_servers) group, read from the run's inventory sources
    with the run's own loader (vault secrets and the C(group_vars)/C(host_vars) next to the playbook count);
    else C(100%), every host at once.
  - The value must be a whole number of hosts per batch (1 or more) or a percentage of them (C(1%) to C(100%)).
    Anything else stops the run before any host is touched, with one message naming the value.
options:
  _terms:
    description: The value given with C(-e) or in the play's vars; empty to read the inventory.
    required: false
"""

EXAMPLES = r"""
- name: Restart the app, a batch of hosts at a time
  hosts: app_servers
  serial: "{{ lookup('runbook.ops.runbook_serial', runbook_serial | default('')) }}"
  tasks:
    - name: Say which batch this host is in
      ansible.builtin.debug:
        msg: "{{ ansible_play_batch }}"
"""

RETURN = r"""
_raw:
  description: One item, the batch size, an integer or a percentage such as C(25%).
  type: list
  elements: raw
"""

import os
import re
from typing import Any

from ansible.errors import AnsibleLookupError
from ansible.inventory.manager import InventoryManager
from ansible.plugins.lookup import LookupBase
from ansible.vars.manager import VariableManager


DEFAULT = "100%"
GROUP = "app_servers"
ACCEPTED = "a number of hosts per batch (1 or more) or a percentage of them (1% to 100%)"
_COUNT = re.compile(r"[1-9][0-9]{0,5}")
_PERCENT = re.compile(r"([1-9][0-9]?|100)%")


def check_serial(value: Any) -> int | str:
    """The batch size as Ansible's serial takes it (an int or 'N%'); AnsibleLookupError otherwise."""
    text = None if isinstance(value, bool) or not isinstance(value, (int, str)) else str(value).strip()
    if text is not None and _COUNT.fullmatch(text):
        return int(text)
    if text is not None and _PERCENT.fullmatch(text):
        return text
    raise AnsibleLookupError(f"Refused runbook_serial={str(value)!r}: give {ACCEPTED}.")


class LookupModule(LookupBase):
    def run(self, terms: list[Any], variables: dict[str, Any] | None = None, **kwargs: Any) -> list[Any]:
        given = terms[0] if terms else None
        if given is None or given == "":
            given = self._inventory_value(list((variables or {}).get("ansible_inventory_sources") or []))
        return [check_serial(DEFAULT if given is None else given)]

    def _inventory_value(self, sources: list[str]) -> Any:
        """runbook_serial of the first host of app_servers; None when there is none or it is unset."""
        # A source that is not a path (a "host1,host2," list) carries no variables.
        paths = [source for source in sources if os.path.exists(source)]
        if not paths:
            return None
        inventory = InventoryManager(loader=self._loader, sources=paths)
        hosts = inventory.get_groups_dict().get(GROUP) or []
        if not hosts:
            return None
        variables = VariableManager(loader=self._loader, inventory=inventory)
        return variables.get_vars(host=inventory.get_host(hosts[0]), include_hostvars=False).get("runbook_serial")
