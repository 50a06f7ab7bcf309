"""Check what the user asked for against the catalog before anything runs."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from runbook.catalog import Scenario, VarSpec
from runbook.errors import BadInput
from runbook.redact import mask

# Variables every playbook understands (the contract); accepted as strings.
CONTRACT_VARS = frozenset(
    {
        "app_repo_dir",
        "app_compose_dir",
        "app_env_file",
        "app_health_url",
        "app_db_health_url",
        "app_domain",
        "backup_dir",
        "runbook_state_dir",
        "runbook_serial",
        "certbot_renew_acme_server",
        "certbot_renew_email",
    }
)
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Jinja's markers: a value holding one would be evaluated as a template on the host.
TEMPLATE_MARKERS = ("{{", "{%", "{#")
_TOKEN = re.compile(r"[0-9a-fA-F]{8,64}")
_TRUE = ("true", "yes")
_FALSE = ("false", "no")


def parse_assignments(items: Iterable[str]) -> dict[str, str]:
    """Turn `-e KEY=VALUE` arguments into a dict; the last one for a key wins."""
    result: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep:
            raise BadInput(f"-e expects KEY=VALUE, got {item!r}")
        if not _NAME.fullmatch(name):
            raise BadInput(f"-e {name!r}: not a variable name (letters, digits and _)")
        result[name] = value
    return result


def check_extra_vars(scenario: Scenario, given: dict[str, str]) -> dict[str, Any]:
    """Validate and type the given extra vars; raise BadInput on the first problem."""
    checked: dict[str, Any] = {}
    for name, raw in given.items():
        check_not_template(name, raw)
        spec = scenario.extra_vars.get(name)
        if spec is not None:
            checked[name] = coerce(spec, raw)
        elif name in CONTRACT_VARS:
            if not raw:
                raise BadInput(f"-e {name} needs a value")
            checked[name] = raw
        else:
            raise BadInput(f"{scenario.name} does not accept -e {name} (accepts: {_accepted(scenario)})")
    return checked


def check_contract_vars(command: str, given: dict[str, str]) -> dict[str, str]:
    """For commands outside a scenario: only the contract variables, each with a value."""
    for name, raw in given.items():
        check_not_template(name, raw)
        if name not in CONTRACT_VARS:
            raise BadInput(f"{command} does not accept -e {name} (accepts: the contract variables "
                           f"{', '.join(sorted(CONTRACT_VARS))})")
        if not raw:
            raise BadInput(f"-e {name} needs a value")
    return dict(given)


def check_not_template(name: str, raw: str) -> None:
    """Refuse Jinja markers: no -e value (or name) is ever evaluated as a template."""
    for where, text in (("name", name), ("value", raw)):
        if any(marker in text for marker in TEMPLATE_MARKERS):
            shown = name if where == "value" else repr(name)
            raise BadInput(f"-e {shown}: the {where} contains a template marker ({{{{, {{% or {{#); "
                           f"give a plain value")


def check_token(token: str | None) -> str | None:
    """A lock token as the CLI makes them (hex); None when not given."""
    if token is None:
        return None
    if not _TOKEN.fullmatch(token.strip()):
        raise BadInput("--token expects the run's lock token: 8 to 64 hex digits (lock_token in its run.json)")
    return token.strip().lower()


def coerce(spec: VarSpec, raw: str) -> Any:
    """The typed value of one extra var, checked against its spec."""
    shown = f"-e {spec.name}={mask(spec.name, raw)!r}" if raw else f"-e {spec.name}=''"
    value: Any
    if spec.type == "bool":
        if raw.lower() in _TRUE:
            value = True
        elif raw.lower() in _FALSE:
            value = False
        else:
            raise BadInput(f"{shown} is not accepted: {_what(spec)} (true/false/yes/no)")
    elif spec.type == "int":
        try:
            value = int(raw, 10)
        except ValueError:
            raise BadInput(f"{shown} is not accepted: {_what(spec)} (a whole number)") from None
    else:
        value = raw
    if spec.choices and _as_text(value) not in spec.choices:
        raise BadInput(f"{shown} is not accepted: {_what(spec)} (one of: {', '.join(spec.choices)})")
    if spec.pattern and not re.fullmatch(spec.pattern, raw):
        raise BadInput(f"{shown} is not accepted: {_what(spec)} (must match {spec.pattern})")
    return value


def check_inventory(inventory: str | None) -> str | None:
    """The inventory as an absolute path, or None to use ansible.cfg's default."""
    if inventory is None:
        return None
    path = Path(inventory).expanduser()
    if not path.exists():
        raise BadInput(f"inventory {inventory!r} not found (give a file or directory with -i)")
    return str(path.resolve())


def check_limit(limit: str | None) -> str | None:
    if limit is None:
        return None
    if not limit.strip():
        raise BadInput("-l needs a host pattern")
    return limit.strip()


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _what(spec: VarSpec) -> str:
    return spec.description or f"{spec.name} ({spec.type})"


def _accepted(scenario: Scenario) -> str:
    own = ", ".join(sorted(scenario.extra_vars))
    contract = "the contract variables " + ", ".join(sorted(CONTRACT_VARS))
    return f"{own}, and {contract}" if own else contract
