# SPDX-License-Identifier: GPL-3.0-or-later
"""The scenario catalog, read from the playbooks themselves.

Each `playbooks/*.yml` whose first play has `vars.runbook_scenario` is a
scenario, named by the file stem. A new playbook shows up without any change
here. Files without the header, or with a broken one, are listed as
uncatalogued with the reason.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from runbook.errors import BadInput
from runbook.suggest import did_you_mean

SEVERITIES = ("P0", "P1", "P2", "P3")
VAR_TYPES = ("str", "bool", "int")
_VAR_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
TAG_NAME = re.compile(r"[A-Za-z0-9_-]+")


class CatalogError(Exception):
    """A playbook's runbook_scenario header is missing or malformed."""


# libyaml's parser when PyYAML has it (about ten times faster), else the pure-Python one.
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _PlaybookLoader(_SafeLoader):  # type: ignore[misc,valid-type]
    """SafeLoader that reads Ansible tags (!vault, !unsafe) as plain values."""


def _tagged_value(loader: Any, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    return loader.construct_mapping(node)


_PlaybookLoader.add_multi_constructor("!", _tagged_value)


@dataclass(frozen=True)
class VarSpec:
    """One extra var a scenario accepts (`-e NAME=VALUE`)."""

    name: str
    description: str = ""
    default: Any = None
    type: str = "str"
    choices: tuple[str, ...] = ()
    pattern: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "description": self.description,
            "default": self.default,
            "type": self.type,
        }
        if self.choices:
            data["choices"] = list(self.choices)
        if self.pattern:
            data["pattern"] = self.pattern
        data["accepted"] = self.accepted
        return data

    @property
    def accepted(self) -> str:
        """The values `-e` takes, as a person types them: `true|false`, `off|on`, `N`, or NAME (see the description)."""
        if self.choices:
            return "|".join(self.choices)
        if self.type == "bool":
            return "true|false"
        if self.type == "int":
            return "N"
        return self.name.upper()

    @property
    def default_text(self) -> str:
        """The default as `-e` would take it; "" when the playbook picks it (its description says how)."""
        if self.default is None or self.default == "":
            return ""
        return _choice_text(self.default)


@dataclass(frozen=True)
class Scenario:
    name: str
    path: Path
    title: str
    section: str
    severity: str
    destructive: bool
    extra_vars: dict[str, VarSpec] = field(default_factory=dict)
    hosts: str = "all"  # the first play's host pattern
    tags: tuple[str, ...] = ()  # the tags an operator may give to --tags/--skip-tags; () when not documented

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "playbook": f"playbooks/{self.path.name}",
            "title": self.title,
            "section": self.section,
            "severity": self.severity,
            "destructive": self.destructive,
            "hosts": self.hosts,
            "extra_vars": {name: spec.to_dict() for name, spec in self.extra_vars.items()},
            "tags": list(self.tags),
        }


    @property
    def sort_key(self) -> tuple[int, int, float, str, str]:
        """Most severe first (P0), then by runbook section (numbered ones in order, then the named ones)."""
        try:
            number, named = float(self.section), ""
        except ValueError:
            number, named = float("inf"), self.section.lower()
        return (SEVERITIES.index(self.severity), 0 if named == "" else 1, number, named, self.name)


def by_severity(scenarios: Iterable[Scenario]) -> list[Scenario]:
    """Scenarios in the order `runbook list` shows them."""
    return sorted(scenarios, key=lambda scenario: scenario.sort_key)


@dataclass(frozen=True)
class Uncatalogued:
    name: str
    path: Path
    reason: str


@dataclass
class Catalog:
    scenarios: dict[str, Scenario]
    uncatalogued: list[Uncatalogued]

    def get(self, name: str) -> Scenario:
        if name in self.scenarios:
            return self.scenarios[name]
        for item in self.uncatalogued:
            if item.name == name:
                raise BadInput(f"playbooks/{item.path.name} is not a runbook scenario: {item.reason}")
        known = ", ".join(sorted(self.scenarios)) or "none"
        raise BadInput(f"unknown scenario {name!r}{did_you_mean(name, self.scenarios)} (known: {known})")


def load_catalog(project: Path) -> Catalog:
    scenarios: dict[str, Scenario] = {}
    uncatalogued: list[Uncatalogued] = []
    for path in sorted((project / "playbooks").glob("*.yml")):
        try:
            scenarios[path.stem] = read_scenario(path)
        except CatalogError as exc:
            uncatalogued.append(Uncatalogued(path.stem, path, str(exc)))
    return Catalog(scenarios, uncatalogued)


def load_scenario(project: Path, name: str) -> Scenario:
    """One scenario by name, reading only its own playbook; an unknown name reads the whole
    catalog to say which names exist."""
    path = project / "playbooks" / f"{name}.yml"
    if TAG_NAME.fullmatch(name) and path.is_file():
        try:
            return read_scenario(path)
        except CatalogError as exc:
            raise BadInput(f"playbooks/{path.name} is not a runbook scenario: {exc}") from exc
    return load_catalog(project).get(name)


def read_scenario(path: Path) -> Scenario:
    """Read the runbook_scenario header of one playbook."""
    try:
        plays = yaml.load(path.read_text(encoding="utf-8"), Loader=_PlaybookLoader)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise CatalogError(f"cannot read it as YAML ({exc.__class__.__name__})") from exc
    if not isinstance(plays, list) or not plays or not isinstance(plays[0], dict):
        raise CatalogError("not a playbook (expected a list of plays)")
    play_vars = plays[0].get("vars")
    meta = play_vars.get("runbook_scenario") if isinstance(play_vars, dict) else None
    if meta is None:
        raise CatalogError("the first play has no vars.runbook_scenario")
    if not isinstance(meta, dict):
        raise CatalogError("runbook_scenario is not a mapping")
    return _scenario_from_meta(path, meta, str(plays[0].get("hosts", "all")))


def _scenario_from_meta(path: Path, meta: dict[str, Any], hosts: str) -> Scenario:
    title = meta.get("title")
    if not isinstance(title, str) or not title.strip():
        raise CatalogError("runbook_scenario.title is missing")
    section = meta.get("section")
    if section is None or isinstance(section, (dict, list)):
        raise CatalogError("runbook_scenario.section is missing")
    severity = meta.get("severity")
    if severity not in SEVERITIES:
        raise CatalogError(f"runbook_scenario.severity must be one of {', '.join(SEVERITIES)}")
    destructive = meta.get("destructive", False)
    if not isinstance(destructive, bool):
        raise CatalogError("runbook_scenario.destructive must be true or false")
    raw_vars = meta.get("extra_vars") or {}
    if not isinstance(raw_vars, dict):
        raise CatalogError("runbook_scenario.extra_vars must be a mapping")
    extra_vars = {str(name): _var_spec(str(name), spec) for name, spec in raw_vars.items()}
    return Scenario(
        name=path.stem,
        path=path,
        title=title.strip(),
        section=str(section),
        severity=severity,
        destructive=destructive,
        extra_vars=extra_vars,
        hosts=hosts,
        tags=_tags(meta.get("tags")),
    )


def _tags(raw: Any) -> tuple[str, ...]:
    """The optional `tags` of the header: a list of tag names, or a mapping of tag name to description."""
    if raw is None:
        return ()
    if not isinstance(raw, (list, dict)):
        raise CatalogError("runbook_scenario.tags must be a list of tag names")
    names = [str(name) for name in raw]
    for name in names:
        if not TAG_NAME.fullmatch(name):
            raise CatalogError(f"runbook_scenario.tags: {name!r} is not a tag name (letters, digits, _ and -)")
    return tuple(dict.fromkeys(names))


def _var_spec(name: str, spec: Any) -> VarSpec:
    if not _VAR_NAME.fullmatch(name):
        raise CatalogError(f"extra var {name!r} is not a valid variable name")
    if spec is None:
        spec = {}
    if not isinstance(spec, dict):
        raise CatalogError(f"extra var {name!r} must be a mapping")
    var_type = spec.get("type", "str")
    if var_type not in VAR_TYPES:
        raise CatalogError(f"extra var {name!r} has type {var_type!r}; use one of {', '.join(VAR_TYPES)}")
    choices = spec.get("choices") or []
    if not isinstance(choices, list):
        raise CatalogError(f"extra var {name!r}: choices must be a list")
    pattern = spec.get("pattern")
    if pattern is not None:
        if not isinstance(pattern, str):
            raise CatalogError(f"extra var {name!r}: pattern must be a string")
        try:
            re.compile(pattern)
        except re.error as exc:
            raise CatalogError(f"extra var {name!r}: pattern is not a valid regex ({exc})") from exc
    return VarSpec(
        name=name,
        description=str(spec.get("description", "")),
        default=spec.get("default"),
        type=var_type,
        choices=tuple(_choice_text(choice) for choice in choices),
        pattern=pattern,
    )


def _choice_text(choice: Any) -> str:
    if isinstance(choice, bool):
        return "true" if choice else "false"
    return str(choice)
