# SPDX-License-Identifier: GPL-3.0-or-later
"""The Ansible configuration a run uses: the user's own ansible.cfg, with the project's layered in.

The user's file is found as Ansible finds it: $ANSIBLE_CONFIG (a file, or a folder holding
ansible.cfg), then ./ansible.cfg (not in a world-writable folder), then ~/.ansible.cfg, then
/etc/ansible/ansible.cfg. Every section and key of it is kept. The project's settings are
added only where the user has none, except what the project needs to work, which is merged:
roles_path, collections_path and callback_plugins get the project's folders first, and
callbacks_enabled gets the project's callbacks added to the user's. Relative paths are made
absolute against the folder of the file that set them, so the merged file can live anywhere.
"""

from __future__ import annotations

import configparser
import io
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from runbook.redact import mask

USER, PROJECT, MERGED = "user", "project", "merged"
MERGED_FILE = "ansible.cfg"
DEFAULTS = "defaults"
# Settings the project cannot work without: merged with the user's, never replaced.
PATH_MERGED = ("roles_path", "collections_path", "callback_plugins")
LIST_MERGED = ("callbacks_enabled",)
# Their environment variables: Ansible reads them before any file, so a run sets them too.
MERGED_ENV = {
    "roles_path": "ANSIBLE_ROLES_PATH",
    "collections_path": "ANSIBLE_COLLECTIONS_PATH",
    "callback_plugins": "ANSIBLE_CALLBACK_PLUGINS",
    "callbacks_enabled": "ANSIBLE_CALLBACKS_ENABLED",
}
_ALIASES = {"collections_paths": "collections_path"}
# Ansible's path-typed settings: how a value splits into paths (None: one path).
_PATH_TYPES: dict[str, str | None] = {"path": None, "tmppath": None, "tmp": None, "pathspec": ":",
                                      "pathlist": ","}


@dataclass(frozen=True)
class Setting:
    section: str
    key: str
    value: str
    source: str  # USER, PROJECT or MERGED

    def origin(self, config: "EffectiveConfig") -> str:
        if self.source == USER:
            return f"user: {config.user_file}"
        if self.source == PROJECT:
            return f"project: {config.project_file}"
        return f"merged: project's first, then {config.user_file}'s"


@dataclass
class EffectiveConfig:
    project_file: Path
    user_file: Path | None = None  # None, or the project's own file: nothing is merged
    settings: list[Setting] = field(default_factory=list)

    @property
    def layered(self) -> bool:
        return self.user_file is not None

    def value(self, section: str, key: str) -> str | None:
        for setting in self.settings:
            if (setting.section, setting.key) == (section, key):
                return setting.value
        return None

    def ini_text(self) -> str:
        parser = configparser.RawConfigParser()
        for setting in self.settings:
            if not parser.has_section(setting.section):
                parser.add_section(setting.section)
            parser.set(setting.section, setting.key, setting.value)
        out = io.StringIO()
        parser.write(out)
        return out.getvalue()

    def write(self, directory: Path) -> Path:
        """The merged file, private (0600), in `directory`; the project's own file when nothing is layered."""
        if not self.layered:
            return self.project_file
        path = directory / MERGED_FILE
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(self.ini_text())
        return path

    def to_dict(self) -> dict[str, Any]:
        return {
            "user_config": str(self.user_file) if self.user_file else None,
            "project_config": str(self.project_file),
            "layered": self.layered,
            "settings": [{"section": s.section, "key": s.key, "value": mask(s.key, s.value), "source": s.source,
                          "origin": s.origin(self)} for s in self.settings],
        }


def find_user_config(env: Mapping[str, str] | None = None, cwd: Path | None = None,
                     home: Path | None = None) -> Path | None:
    """The ansible.cfg Ansible itself would read, or None."""
    env = os.environ if env is None else env
    cwd = Path.cwd() if cwd is None else cwd
    home = Path.home() if home is None else home
    candidates: list[Path] = []
    given = env.get("ANSIBLE_CONFIG")
    if given:
        path = Path(os.path.expandvars(given)).expanduser()
        candidates.append(path / "ansible.cfg" if path.is_dir() else path)
    if not _world_writable(cwd):  # Ansible ignores ./ansible.cfg there (anyone could have put it)
        candidates.append(cwd / "ansible.cfg")
    candidates += [home / ".ansible.cfg", Path("/etc/ansible/ansible.cfg")]
    for candidate in candidates:
        if candidate.is_file():
            return candidate.resolve()
    return None


def _world_writable(folder: Path) -> bool:
    try:
        return bool(folder.stat().st_mode & stat.S_IWOTH)
    except OSError:
        return True


def effective(project: Path, user_file: Path | None, env: Mapping[str, str] | None = None) -> EffectiveConfig:
    """The settings a run uses, each with where it came from; ValueError when a file does not parse."""
    env = os.environ if env is None else env
    project_file = (project / "ansible.cfg").resolve()
    own = _read(project_file) if project_file.is_file() else {}
    if user_file is None or user_file.resolve() == project_file:
        return EffectiveConfig(project_file, None, [Setting(s, k, v, PROJECT) for (s, k), v in own.items()])
    user_file = user_file.resolve()
    theirs = _read(user_file)
    settings = [Setting(s, k, v, USER) for (s, k), v in theirs.items()]
    for (section, key), value in own.items():
        if section == DEFAULTS and key in (*PATH_MERGED, *LIST_MERGED):
            continue
        if (section, key) not in theirs:
            settings.append(Setting(section, key, value, PROJECT))
    for key in (*PATH_MERGED, *LIST_MERGED):
        ours = own.get((DEFAULTS, key))
        user_value = env.get(MERGED_ENV[key]) or theirs.get((DEFAULTS, key))
        if ours is None:
            continue
        merged = merge_list(ours, user_value, "," if key in LIST_MERGED else ":")
        settings = [s for s in settings if (s.section, s.key) != (DEFAULTS, key)]
        settings.append(Setting(DEFAULTS, key, merged, MERGED if user_value else PROJECT))
    return EffectiveConfig(project_file, user_file, settings)


def merge_list(ours: str, theirs: str | None, separator: str) -> str:
    """The project's entries first, then the user's that are not among them."""
    items: list[str] = []
    for text in (ours, theirs or ""):
        for item in (part.strip() for part in text.split(separator)):
            if item and item not in items:
                items.append(item)
    return (", " if separator == "," else separator).join(items)


def _read(path: Path) -> dict[tuple[str, str], str]:
    """Every (section, key) of an ini file, path settings made absolute against its folder."""
    parser = configparser.RawConfigParser(inline_comment_prefixes=(";",))
    try:
        with path.open(encoding="utf-8") as handle:
            parser.read_file(handle)
    except (OSError, UnicodeDecodeError, configparser.Error) as exc:
        raise ValueError(f"{path}: {str(exc).splitlines()[0]}") from None
    found: dict[tuple[str, str], str] = {}
    for section in parser.sections():
        for key, value in parser.items(section):
            key = _ALIASES.get(key, key) if section == DEFAULTS else key
            found[(section, key)] = _absolute(section, key, value, path.parent)
    return found


def _absolute(section: str, key: str, value: str, base: Path) -> str:
    kind = path_settings().get((section, key), "")
    if kind not in _PATH_TYPES:
        return value
    separator = _PATH_TYPES[kind]
    parts = [value] if separator is None else [part.strip() for part in value.split(separator)]
    resolved = [part if not part or part.startswith(("~", "$", "/", "{{")) else str(base / part) for part in parts]
    return (", " if separator == "," else separator or "").join(resolved)


@lru_cache(maxsize=1)
def path_settings() -> dict[tuple[str, str], str]:
    """(section, key) -> type of Ansible's settings whose value is a path (from ansible's base.yml)."""
    import ansible.config

    base = Path(ansible.config.__file__).parent / "base.yml"
    try:
        definitions = yaml.safe_load(base.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        definitions = {}
    kinds: dict[tuple[str, str], str] = {}
    for definition in definitions.values():
        if not isinstance(definition, dict):
            continue
        for entry in definition.get("ini") or []:
            if isinstance(entry, dict) and "key" in entry and "section" in entry:
                kinds[(entry["section"], entry["key"])] = str(definition.get("type", ""))
    return kinds


def current(project: Path) -> EffectiveConfig:
    """The configuration a run started now would use; BadInput (one line) when a file does not parse."""
    from runbook.errors import BadInput

    try:
        return effective(project, find_user_config())
    except ValueError as exc:
        raise BadInput(f"ansible.cfg does not parse: {exc}") from None
