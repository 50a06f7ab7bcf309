# SPDX-License-Identifier: GPL-3.0-or-later
"""One pattern for each input, shared by the CLI and the playbook: the CLI reads
it from the playbook's header, so what the CLI accepts the playbook accepts too,
and what the playbook refuses the CLI refuses first (exit 2, nothing run)."""

from __future__ import annotations

from pathlib import Path

import pytest

from runbook.catalog import load_catalog
from runbook.errors import BadInput
from runbook.validate import check_extra_vars

ROOT = Path(__file__).resolve().parent.parent
CATALOG = load_catalog(ROOT)

REFUSED = [
    ("deploy", "ref", "main.lock"), ("deploy", "ref", "feature/"), ("deploy", "ref", "release."),
    ("deploy", "ref", "../../etc"), ("deploy", "ref", "a//b"), ("deploy", "ref", "main@{1}"),
    ("deploy", "ref", "-rf"), ("deploy", "ref", "main;reboot"), ("deploy", "ref", ""),
    ("rollback", "commit", "-zzz"), ("rollback", "commit", "HEAD~"), ("rollback", "commit", "HEAD^"),
    ("rollback", "commit", "last-good; reboot"), ("rollback", "commit", "--upload-pack=touch x"),
    ("rollback", "commit", "refs/heads/main"), ("rollback", "commit", "refs/tags/-x"), ("rollback", "commit", "v1..2"),
    ("rollback", "commit", "v1.lock"), ("rollback", "commit", "v1.2.3/"), ("rollback", "commit", "v1.2.3^{}"),
    ("rollback", "snapshot", "perhaps"), ("rollback", "no_cache", "maybe"),
]
ACCEPTED = [
    ("deploy", "ref", "main"), ("deploy", "ref", "release/2026.11"), ("deploy", "ref", "v1.2.3"),
    ("deploy", "ref", "feature/lock-fix"), ("deploy", "ref", "0123abc"),
    ("rollback", "commit", "HEAD~3"), ("rollback", "commit", "last-good"), ("rollback", "commit", "0123abcd"),
    ("rollback", "commit", "v1.2.3"), ("rollback", "commit", "refs/tags/v1.2.3"), ("rollback", "commit", "release/2026.11"),
    ("rollback", "commit", "abc12"),  # a tag name (a SHA needs 7-40 hex digits): the host says when there is no such tag
    ("rollback", "snapshot", "false"), ("rollback", "no_cache", "true"),
]


@pytest.mark.parametrize(("scenario", "name", "value"), REFUSED)
def test_the_cli_refuses_what_the_playbook_refuses(scenario: str, name: str, value: str) -> None:
    with pytest.raises(BadInput):
        check_extra_vars(CATALOG.get(scenario), {name: value})


@pytest.mark.parametrize(("scenario", "name", "value"), ACCEPTED)
def test_the_cli_accepts_what_the_playbook_accepts(scenario: str, name: str, value: str) -> None:
    assert name in check_extra_vars(CATALOG.get(scenario), {name: value})


def test_the_playbooks_check_with_the_header_pattern_itself() -> None:
    """The playbook's own assert uses runbook_scenario.extra_vars.*.pattern, not a copy."""
    assert "regex(runbook_scenario.extra_vars.ref.pattern" in (ROOT / "playbooks" / "deploy.yml").read_text()
    assert "regex(runbook_scenario.extra_vars.commit.pattern" in (ROOT / "playbooks" / "rollback.yml").read_text()
