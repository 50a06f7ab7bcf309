# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The `runbook_redact` filter: the CLI's redaction rules, for tasks that show text.

    {{ lines | runbook_redact }}

Takes a string, a list of strings, or None, and gives back the same shape with
ANSI escape sequences stripped and secrets replaced by `********`. The rules
are `runbook.redact.redact_text`, the very code the CLI runs on everything it
keeps and prints (see that module for the rules); nothing is duplicated here.
When ansible-playbook runs from a Python without the runbook package
installed, the package is imported from this repository's `src/` directory.
"""

from __future__ import annotations

DOCUMENTATION = r"""
name: runbook_redact
short_description: Strip ANSI escapes and redact secrets with the runbook CLI's own rules
version_added: 0.2.0
author: runbook maintainers (!UNKNOWN)
description:
  - Takes a string, a list of strings, or null, and gives back the same shape with ANSI escape sequences
    stripped and secrets replaced by C(********).
  - The rules are C(runbook.redact.redact_text), the very code the runbook CLI runs on everything it keeps
    and prints. When the Python that runs ansible-playbook does not have the runbook package, it is imported
    from the repository's C(src/) directory.
options:
  _input:
    description: A string, a list of strings, or null.
    type: raw
    required: true
"""

EXAMPLES = r"""
- name: Show the last error lines of the deploy, secrets redacted
  ansible.builtin.debug:
    msg: "{{ compose_deploy_error_lines[-10:] | runbook.ops.runbook_redact }}"
"""

RETURN = r"""
_value:
  description: The string or the list of strings redacted (null stays null).
  type: raw
"""

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ansible.errors import AnsibleTypeError

try:
    from runbook.redact import redact_text
except ImportError:
    # collections/ansible_collections/runbook/ops/plugins/filter/ -> the repository's src/
    sys.path.insert(0, str(Path(__file__).resolve().parents[6] / "src"))
    from runbook.redact import redact_text


def runbook_redact(value: Any) -> Any:
    """A string or a list of strings (None stays None), with ANSI stripped and secrets redacted."""
    if isinstance(value, (list, tuple)):
        return [_redact_one(item) for item in value]
    return _redact_one(value)


def _redact_one(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return redact_text(value)
    raise AnsibleTypeError(f"runbook_redact expects a string or a list of strings, got {type(value).__name__}")


class FilterModule:
    """Filters shared by the runbook's roles."""

    def filters(self) -> dict[str, Callable[[Any], Any]]:
        return {"runbook_redact": runbook_redact}
