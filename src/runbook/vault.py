# SPDX-License-Identifier: GPL-3.0-or-later
"""Ansible Vault for the CLI: the secrets of --vault-id, --vault-password-file and --ask-vault-pass
(and of the ansible.cfg in use), to check a vaulted `-e @FILE` before the run, and the same
options for ansible-playbook.

Decrypted text stays in memory: it is checked, never written. ansible-playbook decrypts the file
itself (it gets `-e @FILE` and the vault options); an asked password reaches it through
ansible-runner's answer to its prompt, never through a file or the process list.
"""

from __future__ import annotations

import getpass
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runbook.errors import BadInput

DEFAULT_ID = "default"
# What ansible-playbook asks with --ask-vault-pass, and with --vault-id LABEL@prompt.
ASK_PROMPT = r"Vault password:\s*?$"
_NO_SECRET = "give the vault password with --vault-password-file, --vault-id or --ask-vault-pass"


@dataclass
class VaultOptions:
    """The vault options given on the command line (ansible-playbook's, same meaning)."""

    vault_ids: list[str] = field(default_factory=list)  # LABEL@SOURCE or SOURCE; SOURCE a file, a script or prompt
    password_files: list[str] = field(default_factory=list)
    ask: bool = False
    configured: list[str] = field(default_factory=list)  # vault_identity_list / vault_password_file of ansible.cfg
    asked: dict[str, str] = field(default_factory=dict)  # vault id -> the password typed (in memory only)

    def given(self) -> bool:
        return bool(self.vault_ids or self.password_files or self.ask)

    def playbook_args(self) -> list[str]:
        """ansible-playbook's options for them."""
        words: list[str] = []
        for vault_id in self.vault_ids:
            words += ["--vault-id", vault_id]
        for path in self.password_files:
            words += ["--vault-password-file", path]
        if self.ask:
            words.append("--ask-vault-pass")
        return words

    def prompts(self) -> dict[str, str]:
        """ansible-runner's `passwords`: the regex of each vault prompt -> the password typed for it."""
        answers: dict[str, str] = {}
        for vault_id, password in self.asked.items():
            if vault_id == DEFAULT_ID and self.ask:
                answers[ASK_PROMPT] = password
            else:
                answers[rf"Vault password \({re.escape(vault_id)}\):\s*?$"] = password
        return answers


def check_options(options: VaultOptions) -> VaultOptions:
    """Password files must exist and be readable; a vault id is LABEL@SOURCE or SOURCE. Absolute paths."""
    files = [_readable(path, "--vault-password-file") for path in options.password_files]
    ids: list[str] = []
    for vault_id in options.vault_ids:
        label, source = _split(vault_id)
        if not source or (label is not None and not label):
            raise BadInput(f"--vault-id {vault_id!r}: give LABEL@FILE, FILE or LABEL@prompt")
        if source != "prompt":
            source = _readable(source, "--vault-id")
        ids.append(f"{label}@{source}" if label is not None else source)
    return VaultOptions(ids, files, options.ask, options.configured, options.asked)


def ask_passwords(options: VaultOptions) -> None:
    """Ask, once, for each password to prompt for (--ask-vault-pass, --vault-id LABEL@prompt)."""
    wanted = [DEFAULT_ID] if options.ask else []
    wanted += [label or DEFAULT_ID for label, source in map(_split, options.vault_ids) if source == "prompt"]
    if not wanted:
        return
    if not (sys.stdin.isatty() and sys.stderr.isatty()):
        raise BadInput("--ask-vault-pass (or a --vault-id ...@prompt) needs a terminal; "
                       "use --vault-password-file FILE instead")
    for vault_id in dict.fromkeys(wanted):
        shown = "Vault password: " if vault_id == DEFAULT_ID else f"Vault password ({vault_id}): "
        password = getpass.getpass(shown)
        if not password:
            raise BadInput("an empty vault password was given")
        options.asked[vault_id] = password


def is_vaulted(text: str) -> bool:
    from ansible.parsing.vault import is_encrypted  # ansible loads slowly: only when needed

    return bool(is_encrypted(text))


class Decryptor:
    """Decrypts vault text with the secrets of the options, in memory."""

    def __init__(self, options: VaultOptions) -> None:
        self.options = options
        self._vault: Any = None

    def _lib(self) -> Any:
        if self._vault is None:
            from ansible.parsing.vault import VaultLib

            self._vault = VaultLib(self._secrets())
        return self._vault

    def _secrets(self) -> list[tuple[str, Any]]:
        from ansible.errors import AnsibleError
        from ansible.parsing.dataloader import DataLoader
        from ansible.parsing.vault import VaultSecret, get_file_vault_secret

        loader = DataLoader()
        found: list[tuple[str, Any]] = []
        slugs = [*self.options.configured, *self.options.vault_ids,
                 *(f"{DEFAULT_ID}@{path}" for path in self.options.password_files)]
        for slug in slugs:
            label, source = _split(slug)
            vault_id = label or DEFAULT_ID
            if source == "prompt":
                continue
            try:
                secret = get_file_vault_secret(filename=source, vault_id=vault_id, loader=loader)
                secret.load()
            except AnsibleError as exc:
                raise BadInput(f"vault password {source!r}: {_first_line(exc)}") from None
            found.append((vault_id, secret))
        for vault_id, password in self.options.asked.items():
            found.append((vault_id, VaultSecret(password.encode("utf-8"))))
        return found

    def decrypt(self, text: str, shown: str) -> str:
        """The plain text of vault text; BadInput (one line) when no secret opens it."""
        from ansible.errors import AnsibleError

        vault = self._lib()
        if not vault.secrets:
            raise BadInput(f"{shown} is vault-encrypted and no vault password was given: {_NO_SECRET}")
        try:
            plain = vault.decrypt(text.strip() if isinstance(text, str) else text)
        except AnsibleError:
            raise BadInput(f"{shown} is vault-encrypted and none of the vault passwords given opens it") from None
        return plain.decode("utf-8") if isinstance(plain, bytes) else str(plain)


def configured_slugs(vault_identity_list: str | None, vault_password_file: str | None) -> list[str]:
    """The vault secrets an ansible.cfg names (vault_identity_list, vault_password_file)."""
    slugs = [item.strip() for item in (vault_identity_list or "").split(",") if item.strip()]
    if vault_password_file:
        slugs.append(f"{DEFAULT_ID}@{vault_password_file}")
    return [slug for slug in slugs if _split(slug)[1] not in ("prompt", "prompt_ask_vault_pass")]


def leaf_texts(value: Any) -> Iterable[str]:
    """Every plain value inside `value` (decrypted values are all secret)."""
    if isinstance(value, dict):
        for item in value.values():
            yield from leaf_texts(item)
    elif isinstance(value, list):
        for item in value:
            yield from leaf_texts(item)
    elif value is not None and not isinstance(value, bool):
        yield str(value)


def _split(vault_id: str) -> tuple[str | None, str]:
    if "@" not in vault_id:
        return None, vault_id
    label, source = vault_id.split("@", 1)
    return label, source


def _readable(path_text: str, option: str) -> str:
    path = Path(path_text).expanduser()
    if not path.is_file():
        raise BadInput(f"{option} {path_text!r}: no such file")
    try:
        with path.open("rb"):
            pass
    except OSError:
        raise BadInput(f"{option} {path_text!r}: not readable (check its owner and mode)") from None
    return str(path.resolve())


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else exc.__class__.__name__
