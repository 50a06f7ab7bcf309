# SPDX-License-Identifier: GPL-3.0-or-later
"""runbook: the incident-response runbook as Ansible playbooks, with a thin CLI."""

from importlib import metadata

# The distribution is runbook-incident (pyproject.toml holds the one version number).
DISTRIBUTION = "runbook-incident"

try:
    __version__ = metadata.version(DISTRIBUTION)
except metadata.PackageNotFoundError:  # imported from a source tree that was never installed
    __version__ = "0+unknown"
