"""Keep secrets out of everything a run writes or prints.

Three layers, applied to every kept file and every line we print:
- known secret values (the -e values whose names look secret) are replaced
  wherever they appear, also in their JSON-escaped form;
- in JSON data, string values under keys whose names look secret;
- in text, `NAME=value` lines whose NAME looks secret (as in a `.env`) and
  the password part of `scheme://user:password@host` URLs.
Ansible itself censors results of `no_log` tasks; we also drop `task_args`
and module invocation arguments from events, and the environment from the
`command` artifact.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

REDACTED = "********"
MIN_SECRET_LENGTH = 4

_SECRET_WORDS = frozenset(
    {
        "password", "passwd", "pass", "pwd", "secret", "token", "key", "apikey",
        "credential", "credentials", "private", "passphrase", "auth", "cookie",
    }
)
_SECRET_SUFFIXES = ("password", "passwd", "secret", "token", "apikey")
_CAMEL = re.compile(r"([a-z0-9])([A-Z])")
_ENV_LINE = re.compile(
    r"^(?P<lead>[ \t]*(?:export[ \t]+)?)(?P<name>[A-Za-z_][A-Za-z0-9_.-]*)"
    r"(?P<sep>[ \t]*[=:][ \t]*)(?P<value>[^\r\n]*)$",
    re.MULTILINE,
)
_URL_CREDENTIALS = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@\"']+:)(?P<pw>[^@\s/\"']+)@")


def looks_secret(name: str) -> bool:
    """True for names like db_password, STRIPE_SECRET_KEY, apiToken."""
    words = re.split(r"[^a-z0-9]+", _CAMEL.sub(r"\1_\2", name).lower())
    return any(word in _SECRET_WORDS or word.endswith(_SECRET_SUFFIXES) for word in words if word)


def mask(name: str, value: str) -> str:
    """The value to show for a variable: itself, or REDACTED when its name looks secret."""
    return REDACTED if looks_secret(name) else value


class Redactor:
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        values = {str(value) for value in secrets if len(str(value)) >= MIN_SECRET_LENGTH}
        for value in list(values):
            escaped = json.dumps(value)[1:-1]
            if escaped != value:
                values.add(escaped)
        self._secrets = sorted(values, key=len, reverse=True)

    def text(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        text = _URL_CREDENTIALS.sub(lambda m: f"{m['head']}{REDACTED}@", text)
        return _ENV_LINE.sub(self._env_line, text)

    @staticmethod
    def _env_line(match: re.Match[str]) -> str:
        value = match["value"].strip()
        if not value or value == REDACTED or not looks_secret(match["name"]):
            return match[0]
        return f"{match['lead']}{match['name']}{match['sep']}{REDACTED}"

    def data(self, value: Any) -> Any:
        """A copy of JSON-like data with secrets replaced."""
        if isinstance(value, dict):
            return {key: self._item(str(key), item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.data(item) for item in value]
        if isinstance(value, str):
            return self.text(value)
        return value

    def _item(self, key: str, value: Any) -> Any:
        if isinstance(value, str) and value and looks_secret(key):
            return REDACTED
        return self.data(value)

    def event(self, event: dict[str, Any]) -> None:
        """Redact one ansible-runner event in place, before it is written."""
        event_data = event.get("event_data")
        if isinstance(event_data, dict):
            event_data.pop("task_args", None)
            res = event_data.get("res")
            if isinstance(res, dict):
                res.pop("invocation", None)
                for item in res.get("results") or []:
                    if isinstance(item, dict):
                        item.pop("invocation", None)
        for key, value in list(event.items()):
            event[key] = self.data(value)

    def command_file(self, path: Path) -> None:
        """Rewrite the `command` artifact without the environment's values."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return
        if isinstance(data, dict) and isinstance(data.get("env"), dict):
            data["env"] = {name: REDACTED for name in data["env"]}
        _write_private(path, json.dumps(self.data(data), ensure_ascii=False))

    def tree(self, root: Path) -> None:
        """Scrub every file under root in place."""
        for path in sorted(root.rglob("*")):
            if not path.is_file() or path.is_symlink():
                continue
            if path.name == "command":
                self.command_file(path)
                continue
            try:
                original = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            cleaned = self._file_text(path, original)
            if cleaned != original:
                _write_private(path, cleaned)

    def _file_text(self, path: Path, text: str) -> str:
        if path.suffix == ".json":
            try:
                parsed = json.loads(text)
            except ValueError:
                return self.text(text)
            cleaned = self.data(parsed)
            return text if cleaned == parsed else json.dumps(cleaned, ensure_ascii=False)
        return self.text(text)


def _write_private(path: Path, text: str) -> None:
    temporary = path.with_name(path.name + ".redacting")
    temporary.write_text(text, encoding="utf-8")
    temporary.chmod(0o600)
    temporary.replace(path)
