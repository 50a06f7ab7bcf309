# SPDX-License-Identifier: GPL-3.0-or-later
"""What this run is made of: the tool's version and the ansible-core it runs.

`runbook --version` prints both; run.json records both, so a report read months
later says which code wrote it.
"""

from __future__ import annotations

from runbook import __version__


def ansible_core_version() -> str:
    """The ansible-core of this interpreter (the ansible-playbook the CLI starts is its own)."""
    try:
        from ansible.release import __version__ as core  # pylint: disable=import-outside-toplevel
    except ImportError:
        return "not installed"
    return str(core)


def version_line() -> str:
    return f"runbook {__version__} (ansible-core {ansible_core_version()})"
