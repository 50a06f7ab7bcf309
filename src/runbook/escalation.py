# SPDX-License-Identifier: GPL-3.0-or-later
"""Whom to escalate to when a run failed.

Contacts are configuration, never code: the inventory variable
`runbook_escalation_contacts` maps a kind (hosting, database, payments) to
{name, contact, when}. Unset kinds fall back to the runbook's "When to
Escalate" rules, which name the provider and the variable to set, not an address.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

CONTACTS_VAR = "runbook_escalation_contacts"
KINDS = ("hosting", "database", "payments")


@dataclass(frozen=True)
class Contact:
    kind: str
    name: str
    contact: str
    when: str


DEFAULTS = {
    "hosting": Contact("hosting", "hosting provider", f"set {CONTACTS_VAR}.hosting",
                       "the server cannot be reached (hardware, network, DDoS)"),
    "database": Contact("database", "database provider", f"set {CONTACTS_VAR}.database",
                        "the database does not answer for 15 min (or data corruption, a restore needed)"),
    "payments": Contact("payments", "payment provider", f"set {CONTACTS_VAR}.payments",
                        "payments fail for 30 min"),
}
# Which provider a scenario's failure points at; any other scenario: hosting.
SCENARIO_KINDS = {
    "outage": ("hosting",),
    "database": ("database",),
    "payments": ("payments",),
}
FAILED_RESULTS = ("failed", "unreachable", "error")


def kinds_for(scenario: str, result: str) -> list[str]:
    """The kinds of contact a failed run of this scenario calls for (an unreachable host: hosting too)."""
    kinds = list(SCENARIO_KINDS.get(scenario, ("hosting",)))
    if result == "unreachable" and "hosting" not in kinds:
        kinds.insert(0, "hosting")
    return kinds


def contacts_for(scenario: str, result: str, configured: dict[str, Any]) -> list[Contact]:
    """The contacts to call, configured values over the runbook's defaults."""
    return [contact(kind, configured.get(kind)) for kind in kinds_for(scenario, result)]


def contact(kind: str, given: Any) -> Contact:
    default = DEFAULTS[kind]
    if not isinstance(given, dict):
        return default
    return Contact(
        kind=kind,
        name=_text(given.get("name")) or default.name,
        contact=_text(given.get("contact")) or default.contact,
        when=_text(given.get("when")) or default.when,
    )


def configured_contacts(value: Any) -> dict[str, Any]:
    """The known kinds of an inventory's runbook_escalation_contacts; anything else is ignored."""
    if not isinstance(value, dict):
        return {}
    return {kind: value[kind] for kind in KINDS if isinstance(value.get(kind), dict)}


def _text(value: Any) -> str:
    return " ".join(str(value).split()) if value not in (None, "") else ""
