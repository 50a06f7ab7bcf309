# SPDX-License-Identifier: GPL-3.0-or-later
"""Check what the user asked for against the catalog before anything runs."""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Iterable
from pathlib import Path
from dataclasses import dataclass, field
from typing import Any

import yaml

from runbook.catalog import TAG_NAME, Scenario, VarSpec
from runbook.errors import BadInput
from runbook.redact import looks_secret, mask
from runbook.suggest import did_you_mean
from runbook.vault import Decryptor

# Variables every playbook understands (the contract); accepted as strings.
CONTRACT_VARS = frozenset(
    {
        "app_repo_dir",
        "app_compose_dir",
        "app_env_file",
        "app_health_url",
        "app_db_health_url",
        "app_domain",
        "app_service",
        "app_payments_switch",
        "app_webhook_path",
        "app_nginx_site",
        "backup_dir",
        "runbook_state_dir",
        "runbook_serial",
        "certbot_renew_acme_server",
        "certbot_renew_email",
        "runbook_triage_max_fixes",
        "runbook_triage_window",
    }
)
# Ansible's connection and privilege variables, accepted with -e as with an inventory. Others
# (ansible_ssh_common_args, ansible_python_interpreter, ansible_connection, ...) choose programs
# to run on the controller or the host: they belong in the inventory, which is trusted configuration.
CONNECTION_VARS = frozenset(
    {
        "ansible_host",
        "ansible_port",
        "ansible_user",
        "ansible_password",
        "ansible_ssh_pass",
        "ansible_ssh_password",
        "ansible_private_key_file",
        "ansible_ssh_private_key_file",
        "ansible_timeout",
        "ansible_become",
        "ansible_become_method",
        "ansible_become_user",
        "ansible_become_password",
        "ansible_become_pass",
    }
)
# The contract variables that map a server's layout, each with the shape its value must have
# (the pattern, what it is, an example): a compose service name, an .env variable name, a URL
# path, an absolute file path.
CONTRACT_PATTERNS = {
    "app_service": (re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,62}"), "a compose service name", "api"),
    "app_payments_switch": (re.compile(r"[A-Za-z_][A-Za-z0-9_]*"), "an environment variable name",
                            "ENABLE_STRIPE_PAYMENTS"),
    "app_webhook_path": (re.compile(r"/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*"), "a URL path starting with /",
                         "/webhooks/stripe"),
    "app_nginx_site": (re.compile(r"/[A-Za-z0-9._+@%,:=/-]*[^/]"), "an absolute file path",
                       "/etc/nginx/sites-available/api"),
}
# Connection variables naming a file on the controller: checked like --private-key.
_KEY_FILE_VARS = frozenset({"ansible_private_key_file", "ansible_ssh_private_key_file"})
# Connection variables that take a number: (lowest, highest, what).
_NUMBER_VARS = {"ansible_port": (1, 65535, "a port number"), "ansible_timeout": (1, 3600, "seconds")}
_HOST = re.compile(r"[A-Za-z0-9_.:\[\]%-]{1,253}")
_BECOME_METHODS = ("sudo", "su", "doas", "pbrun", "pfexec", "dzdo", "ksu", "runas", "machinectl")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# A login or become user: what useradd accepts, plus the @ and . of directory accounts.
_USER = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.@-]{0,63}")
MAX_FORKS = 100
# Jinja's markers: a value holding one would be evaluated as a template on the host.
TEMPLATE_MARKERS = ("{{", "{%", "{#")
_TOKEN = re.compile(r"[0-9a-fA-F]{8,64}")
# runbook_serial, as the playbooks' lookup (runbook.ops.runbook_serial) accepts it.
SERIAL = re.compile(r"[1-9][0-9]{0,5}|([1-9][0-9]?|100)%")
SERIAL_ACCEPTED = "a number of hosts per batch (1 or more) or a percentage of them (1% to 100%)"
# triage --fix's circuit breaker, as the host's module (runbook.ops.runbook_triage_fixes) accepts them.
TRIAGE_WINDOW = re.compile(r"([1-9][0-9]{0,6})([smhd])")
TRIAGE_WINDOW_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
TRIAGE_WINDOW_MAX = 7 * 86400
TRIAGE_WINDOW_ACCEPTED = "a whole number and a unit: s, m, h or d (e.g. 30m, 1h, 2d; at most 7d)"
TRIAGE_MAX_FIXES = 100
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


def read_extra_vars(items: Iterable[str], decryptor: Decryptor | None = None) -> dict[str, Any]:
    """The -e arguments as ansible-playbook reads them, in order; the last value for a name wins.

    `@FILE` is a YAML or JSON mapping (vault-encrypted, or holding `!vault` values: decrypted in
    memory with `decryptor`); an argument starting with `{` is an inline JSON or YAML
    mapping; anything else is `KEY=VALUE`, or several of them split at blanks with shell quoting
    (`-e 'commit=abc no_cache=true'`, `-e 'msg="two words" x=1'`) when every word is one. An
    argument whose words are not all KEY=VALUE is one KEY=VALUE whose value holds blanks
    (`-e 'sessions_command=redis-cli -a PW FLUSHDB'`), as the CLI always took it.
    """
    return read_extra_vars_split(items, decryptor).values


@dataclass
class ExtraVars:
    """The -e values read, and which of them come from vault-encrypted files."""

    values: dict[str, Any] = field(default_factory=dict)  # every name, the last value given wins
    vaulted: dict[str, Any] = field(default_factory=dict)  # names whose value is from a vaulted file
    vaulted_files: list[str] = field(default_factory=list)  # those files (absolute), in order


def read_extra_vars_split(items: Iterable[str], decryptor: Decryptor | None = None) -> ExtraVars:
    """read_extra_vars, also saying which values came from vaulted files (ansible-playbook gets
    those files themselves, never their decrypted values)."""
    result = ExtraVars()
    for item in items:
        if item.startswith("@"):
            found = VarsFile()
            values = load_vars_file(item[1:], decryptor, found)
            if found.vaulted:
                result.vaulted_files.append(str(Path(item[1:]).expanduser().resolve()))
                result.vaulted.update(values)
            else:
                for name in values:
                    result.vaulted.pop(name, None)
        elif item.lstrip().startswith("{"):
            values = _inline_mapping(item)
        else:
            values = parse_assignments(_split_assignments(item))
        if not item.startswith("@"):
            for name in values:
                result.vaulted.pop(name, None)
        result.values.update(values)
    return result


# The name at the start of each KEY=VALUE of an -e argument.
_ASSIGNED_NAME = re.compile(r"(?<!\S)([A-Za-z_][A-Za-z0-9_]*)=")


def _split_assignments(item: str) -> list[str]:
    """The KEY=VALUE words of one -e argument; a template marker is refused first, by name."""
    found = [item.find(marker) for marker in TEMPLATE_MARKERS if marker in item]
    if found:  # refused before splitting (a template may hold blanks), naming the variable it is in
        names = [match for match in _ASSIGNED_NAME.finditer(item) if match.start() < min(found)]
        check_not_template(names[-1][1] if names else "(argument)", item)
    try:
        words = shlex.split(item)
    except ValueError:  # an unbalanced quote: not a list of assignments
        return [item]
    if len(words) > 1 and all(_ASSIGNED_NAME.match(word) for word in words):
        return words
    return [item]


def _inline_mapping(item: str) -> dict[str, Any]:
    """-e '{"commit": "abc"}' (JSON, or YAML flow style)."""
    shown = "-e {...}"
    try:
        data = yaml.load(item, Loader=_VarsFileLoader)
    except yaml.YAMLError:
        raise BadInput(f"{shown}: not a valid JSON or YAML mapping") from None
    return _checked_mapping(data, shown)


class _VarsFileLoader(yaml.SafeLoader):
    """SafeLoader that reads `!unsafe` values as plain text (they are checked like any other)."""


_VarsFileLoader.add_constructor("!unsafe", lambda loader, node: loader.construct_scalar(node))
_VAULT_HEADER = "$ANSIBLE_VAULT;"


@dataclass
class VarsFile:
    vaulted: bool = False  # encrypted as a whole, or holding !vault values


def _loader(decryptor: Decryptor | None, shown: str, found: VarsFile) -> type[yaml.SafeLoader]:
    """The vars file loader; `!vault` values are decrypted in memory (BadInput when none opens them)."""

    class Loader(_VarsFileLoader):
        pass

    def vault_value(loader: yaml.SafeLoader, node: yaml.Node) -> str:
        found.vaulted = True
        text = str(loader.construct_scalar(node))
        if decryptor is None:
            raise BadInput(f"{shown}: holds a !vault value; give the vault password "
                           f"(--vault-password-file, --vault-id or --ask-vault-pass)")
        return decryptor.decrypt(text, f"{shown}: a !vault value")

    Loader.add_constructor("!vault", vault_value)
    return Loader


def load_vars_file(path_text: str, decryptor: Decryptor | None = None,
                   found: VarsFile | None = None) -> dict[str, Any]:
    """The mapping of extra vars in a YAML or JSON file, decrypted in memory when vault-encrypted;
    BadInput when missing, unreadable, not a mapping, or vaulted and no password given opens it."""
    shown = f"-e @{path_text}"
    found = VarsFile() if found is None else found
    path = Path(path_text).expanduser()
    if not path_text or not path.is_file():
        raise BadInput(f"{shown}: no such file")
    try:
        text = path.read_text(encoding="utf-8")
        if text.lstrip().startswith(_VAULT_HEADER):
            found.vaulted = True
            if decryptor is None:
                raise BadInput(f"{shown}: vault-encrypted; give the vault password "
                               f"(--vault-password-file, --vault-id or --ask-vault-pass)")
            text = decryptor.decrypt(text, shown)
        data = yaml.load(text, Loader=_loader(decryptor, shown, found))
    except OSError as exc:
        raise BadInput(f"{shown}: cannot read it ({exc.strerror or exc.__class__.__name__})") from None
    except UnicodeDecodeError:
        raise BadInput(f"{shown}: not a text file") from None
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" (line {where.line + 1})" if where is not None else ""
        raise BadInput(f"{shown}: not valid YAML or JSON{line}") from None
    return _checked_mapping(data, shown)


def _checked_mapping(data: Any, shown: str) -> dict[str, Any]:
    """A non-empty mapping of variable names to plain values, else BadInput naming `shown`."""
    if not isinstance(data, dict) or not data:
        raise BadInput(f"{shown}: must hold a mapping of variable names to values")
    for name, value in data.items():
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise BadInput(f"{shown}: {name!r} is not a variable name (letters, digits and _)")
        _check_plain(name, value, shown)
    return data


def _check_plain(name: str, value: Any, shown: str) -> None:
    """Only what JSON can carry (no YAML dates, sets or binary): the values are passed on as JSON."""
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise BadInput(f"{shown}: {name} has a key that is not text ({key!r})")
            _check_plain(name, item, shown)
    elif isinstance(value, list):
        for item in value:
            _check_plain(name, item, shown)
    elif value is not None and not isinstance(value, (str, bool, int, float)):
        raise BadInput(f"{shown}: {name} holds a {type(value).__name__}; quote it to give text")


def check_extra_vars(scenario: Scenario, given: dict[str, Any]) -> dict[str, Any]:
    """Validate and type the given extra vars; raise BadInput on the first problem."""
    checked: dict[str, Any] = {}
    for name, raw in given.items():
        check_not_template(name, raw)
        spec = scenario.extra_vars.get(name)
        if spec is not None:
            checked[name] = coerce(spec, _scalar_text(name, raw))
        elif name in CONTRACT_VARS:
            checked[name] = _contract_value(name, raw)
        elif name in CONNECTION_VARS:
            checked[name] = check_connection_var(name, raw)
        else:
            known = [*scenario.extra_vars, *CONTRACT_VARS]
            raise BadInput(f"{scenario.name} does not accept -e {name}{did_you_mean(name, known)} "
                           f"(accepts: {_accepted(scenario)})")
    return checked


def check_contract_vars(command: str, given: dict[str, Any]) -> dict[str, Any]:
    """For commands outside a scenario: only the contract and connection variables, each with a value."""
    checked: dict[str, Any] = {}
    for name, raw in given.items():
        check_not_template(name, raw)
        if name in CONNECTION_VARS:
            checked[name] = check_connection_var(name, raw)
        elif name in CONTRACT_VARS:
            checked[name] = _contract_value(name, raw)
        else:
            raise BadInput(f"{command} does not accept -e {name} (accepts: the contract variables "
                           f"{', '.join(sorted(CONTRACT_VARS))}, and Ansible's connection variables)")
    return checked


def check_connection_var(name: str, raw: Any) -> Any:
    """An ansible_* connection variable: a plain value; a key file must exist, a become method be known."""
    text = _scalar_text(name, raw)
    if not text:
        raise BadInput(f"-e {name} needs a value")
    if name in _KEY_FILE_VARS:
        return check_private_key(text, f"-e {name}")
    if name == "ansible_become_method" and text not in _BECOME_METHODS:
        raise BadInput(f"-e {name}={text!r} is not a become method (one of: {', '.join(_BECOME_METHODS)})")
    if name in ("ansible_user", "ansible_become_user"):
        return check_user(text, f"-e {name}")
    if name in _NUMBER_VARS:
        low, high, what = _NUMBER_VARS[name]
        if not text.isdigit() or not low <= int(text) <= high:
            raise BadInput(f"-e {name}={text!r} is not accepted: give {what} ({low} to {high})")
        return raw  # as given (Ansible converts it): checked, not changed
    if name == "ansible_become":
        if text.lower() not in (*_TRUE, *_FALSE):
            raise BadInput(f"-e {name}={text!r} is not accepted: give true or false")
        return raw
    if name == "ansible_host" and not _HOST.fullmatch(text):
        raise BadInput(f"-e {name}={text!r} is not a host name or address")
    return raw


def _contract_value(name: str, raw: Any) -> str:
    text = _scalar_text(name, raw)
    if not text:
        raise BadInput(f"-e {name} needs a value")
    if name == "runbook_serial" and not SERIAL.fullmatch(text):
        raise BadInput(f"-e runbook_serial={text!r} is not accepted: give {SERIAL_ACCEPTED}")
    problem = triage_setting_problem(name, text)
    if problem:
        raise BadInput(f"-e {problem}")
    if name in CONTRACT_PATTERNS:
        pattern, what, example = CONTRACT_PATTERNS[name]
        if not pattern.fullmatch(text):
            raise BadInput(f"-e {name}={text!r} is not accepted: give {what} (e.g. {example})")
    return text


def triage_setting_problem(name: str, text: str) -> str:
    """What is wrong with a value of runbook_triage_window or runbook_triage_max_fixes ("" when fine; other
    names: ""). The host's module checks them again, the same way (tests/test_triage_fix.py)."""
    if name == "runbook_triage_window":
        found = TRIAGE_WINDOW.fullmatch(text)
        if not found or int(found.group(1)) * TRIAGE_WINDOW_UNITS[found.group(2)] > TRIAGE_WINDOW_MAX:
            return f"runbook_triage_window={text!r} is not accepted: give {TRIAGE_WINDOW_ACCEPTED}"
    if name == "runbook_triage_max_fixes" and not (text.isdigit() and 1 <= int(text) <= TRIAGE_MAX_FIXES):
        return (f"runbook_triage_max_fixes={text!r} is not accepted: give a whole number of fixes, "
                f"1 to {TRIAGE_MAX_FIXES}")
    return ""


def _scalar_text(name: str, raw: Any) -> str:
    """A plain value (text, number, true/false) as the text -e NAME=VALUE would have given."""
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, (int, float, str)):
        return str(raw)
    what = "nothing" if raw is None else f"a {type(raw).__name__}"
    raise BadInput(f"-e {name} needs a plain value (text, a number, true or false), got {what}")


def check_not_template(name: str, raw: Any) -> None:
    """Refuse Jinja markers: no -e value (or name) is ever evaluated as a template, at any depth."""
    for where, text in (("name", name), *(("value", text) for text in _texts(raw))):
        if any(marker in text for marker in TEMPLATE_MARKERS):
            shown = name if where == "value" else repr(name)
            raise BadInput(f"-e {shown}: the {where} contains a template marker ({{{{, {{% or {{#); "
                           f"give a plain value")


def _texts(value: Any) -> Iterable[str]:
    """Every string in a value: itself, or the keys and values of nested mappings and lists."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _texts(item)
    elif isinstance(value, list):
        for item in value:
            yield from _texts(item)


def secret_values(given: dict[str, Any]) -> list[str]:
    """The values given under secret-looking names (at any depth), to scrub from all output."""
    return [text for name, value in given.items() for text in _secret_texts(value, looks_secret(str(name)))]


def _secret_texts(value: Any, secret: bool) -> list[str]:
    """The plain values inside `value`; everything under a secret-looking name is secret."""
    if isinstance(value, dict):
        return [text for key, item in value.items()
                for text in _secret_texts(item, secret or looks_secret(str(key)))]
    if isinstance(value, list):
        return [text for item in value for text in _secret_texts(item, secret)]
    if secret and isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return [str(value)]
    return []


# Ansible's own options ---------------------------------------------------


def check_user(user: str | None, option: str) -> str | None:
    """A login or become user name; None when not given."""
    if user is None:
        return None
    if not _USER.fullmatch(user):
        raise BadInput(f"{option} {user!r} is not a user name (letters, digits, _ . @ -; at most 64)")
    return user


def check_private_key(path_text: str | None, option: str = "--private-key") -> str | None:
    """A private key file that exists and can be read, as an absolute path; None when not given."""
    if path_text is None:
        return None
    path = Path(path_text).expanduser()
    if not path.is_file():
        raise BadInput(f"{option} {path_text!r}: no such file")
    if not os.access(path, os.R_OK):
        raise BadInput(f"{option} {path_text!r}: not readable (check its owner and mode)")
    return str(path.resolve())


def check_ssh_common_args(args: str | None) -> str | None:
    """--ssh-common-args: passed to ansible-playbook as given; no template, no line break."""
    if args is None:
        return None
    if not args.strip():
        raise BadInput("--ssh-common-args needs a value")
    if any(marker in args for marker in TEMPLATE_MARKERS) or "\n" in args:
        raise BadInput("--ssh-common-args: give plain ssh options (no template marker, one line)")
    return args


def check_forks(forks: int | None) -> int | None:
    if forks is None:
        return None
    if not 1 <= forks <= MAX_FORKS:
        raise BadInput(f"-f/--forks {forks}: give 1 to {MAX_FORKS} hosts at a time")
    return forks


def check_tags(scenario: Scenario, given: Iterable[str], option: str) -> str | None:
    """Comma lists of tags (the option may repeat) as one list; only tags the scenario documents.

    A scenario whose header lists no `tags` accepts any tag name. `--skip-tags always` is
    refused everywhere: the input checks and the run lock are tagged always.
    """
    names: list[str] = []
    for raw in given:
        parts = [part.strip() for part in raw.split(",")]
        if not all(parts):
            raise BadInput(f"{option} expects tag names separated by commas, got {raw!r}")
        for part in parts:
            if not TAG_NAME.fullmatch(part):
                raise BadInput(f"{option} {part!r} is not a tag name (letters, digits, _ and -)")
        names += parts
    if not names:
        return None
    if option == "--skip-tags" and "always" in names:
        raise BadInput("--skip-tags always would skip the input checks and the run lock; name the steps to skip")
    unknown = [name for name in names if scenario.tags and name not in scenario.tags]
    if unknown:
        raise BadInput(f"{scenario.name} has no tag {unknown[0]!r} (its tags: {', '.join(scenario.tags)})")
    return ",".join(dict.fromkeys(names))


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


# A comma host list as ansible-playbook takes it (`-i web1,web2,` or `-i web1,`): names or
# addresses separated by commas, with no blanks and nothing a template could hide in.
_HOST_LIST = re.compile(r"[A-Za-z0-9_.:\[\]-]+(?:,[A-Za-z0-9_.:\[\]-]+)*,?")


def check_inventory(inventories: Iterable[str] | None) -> list[str]:
    """Each -i as ansible-playbook takes it, in order: a file or directory (as an absolute path)
    or a comma host list. An empty list uses ansible.cfg's default (or ANSIBLE_INVENTORY)."""
    checked: list[str] = []
    for inventory in inventories or ():
        if "," in inventory:
            if not _HOST_LIST.fullmatch(inventory):
                raise BadInput(f"inventory {inventory!r}: a host list is names separated by commas "
                               f"(e.g. -i web1,web2,)")
            checked.append(inventory)
            continue
        path = Path(inventory).expanduser()
        if not path.exists():
            raise BadInput(f"inventory {inventory!r} not found (give a file, a directory or a host list "
                           f"such as web1, with -i)")
        checked.append(str(path.resolve()))
    return checked


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
    contract = "the contract variables " + ", ".join(sorted(CONTRACT_VARS)) + ", and Ansible's connection variables"
    return f"{own}, {contract}" if own else contract
