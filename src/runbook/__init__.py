"""runbook: the incident-response runbook as Ansible playbooks, with a thin CLI."""

__version__ = "0.1.0"
