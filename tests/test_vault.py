# SPDX-License-Identifier: GPL-3.0-or-later
"""Vault: --vault-id, --vault-password-file, --ask-vault-pass; a vaulted -e @FILE is checked after
decryption in memory, passed to ansible-playbook as the file, and never written decrypted anywhere."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from runbook.cli import main
from runbook.errors import BadInput
from runbook.validate import read_extra_vars_split
from runbook.vault import Decryptor, VaultOptions, check_options

PASSWORD = "correct horse battery"
TOKEN = "tok-PLANTEDvaulted-4242424242"


def encrypt(text: str, password: str = PASSWORD, vault_id: str = "default") -> str:
    from ansible.parsing.vault import VaultLib, VaultSecret

    vault = VaultLib([(vault_id, VaultSecret(password.encode()))])
    return vault.encrypt(text, secret=VaultSecret(password.encode()), vault_id=vault_id).decode()


@pytest.fixture
def password_file(tmp_path: Path) -> Path:
    path = tmp_path / "vault-pass"
    path.write_text(PASSWORD + "\n")
    path.chmod(0o600)
    return path


@pytest.fixture
def vaulted(tmp_path: Path, password_file: Path) -> Path:
    """A vars file encrypted by ansible-vault itself (the venv's)."""
    path = tmp_path / "secrets.yml"
    path.write_text(f"commit: HEAD~3\napi_token: {TOKEN}\n")
    tool = Path(sys.executable).parent / "ansible-vault"
    subprocess.run([str(tool), "encrypt", "--vault-password-file", str(password_file), str(path)],
                   check=True, capture_output=True)
    assert path.read_text().startswith("$ANSIBLE_VAULT;1.1;AES256")
    return path


def every_text(folder: Path) -> str:
    return "\n".join(path.read_text(errors="replace") for path in folder.rglob("*") if path.is_file())


def test_a_vaulted_vars_file_is_accepted_with_its_password(project: Path, runs: Path, inventory: Path,
                                                           vaulted: Path, password_file: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "scenario", "-i", str(inventory), "-e", f"@{vaulted}",
                 "--vault-password-file", str(password_file)]) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    folder = next(path for path in runs.iterdir() if path.is_dir())
    record = json.loads((folder / "run.json").read_text())
    assert f"-e @{vaulted}" in record["command"] and f"--vault-password-file {password_file}" in record["command"]
    assert "commit" not in record["extra_vars"]  # the file's values are not recorded, its path is
    assert TOKEN not in every_text(runs) and TOKEN not in out
    # the playbook got the decrypted token: the task using it ran
    assert "Use the token - changed" in out, out


def test_a_vaulted_vars_file_without_a_password_is_one_line_exit_2(project: Path, runs: Path, inventory: Path,
                                                                   vaulted: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "scenario", "-i", str(inventory), "-e", f"@{vaulted}"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"runbook: error: -e @{vaulted} is vault-encrypted and no vault password was given: "
                          "give the vault password with --vault-password-file, --vault-id or --ask-vault-pass")
    assert err.count("\n") == 1
    assert not runs.exists() or not list(runs.iterdir())


def test_a_wrong_vault_password_is_one_line_exit_2(project: Path, runs: Path, inventory: Path, vaulted: Path,
                                                   tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    wrong = tmp_path / "wrong-pass"
    wrong.write_text("not the password\n")
    assert main(["run", "scenario", "-i", str(inventory), "-e", f"@{vaulted}", "--vault-id", f"prod@{wrong}",
                 "--json"]) == 2
    captured = capsys.readouterr()
    assert captured.err == (f"runbook: error: -e @{vaulted} is vault-encrypted and none of the vault "
                            "passwords given opens it\n")
    assert json.loads(captured.out)["result"] == "bad_input"
    assert not runs.exists() or not list(runs.iterdir())


def test_decrypted_values_are_checked_like_any_other(project: Path, runs: Path, inventory: Path, tmp_path: Path,
                                                     password_file: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.yml"
    path.write_text(encrypt("commit: 'not a commit!'\n"))
    assert main(["run", "scenario", "-i", str(inventory), "-e", f"@{path}",
                 "--vault-password-file", str(password_file)]) == 2
    assert "-e commit='not a commit!' is not accepted" in capsys.readouterr().err


def test_a_vault_value_inside_a_plain_file(project: Path, runs: Path, inventory: Path, tmp_path: Path,
                                           password_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    secret = encrypt(TOKEN).replace("\n", "\n  ")
    path = tmp_path / "mixed.yml"
    path.write_text(f"payments: 'on'\napi_token: !vault |\n  {secret}\n")
    assert main(["run", "scenario", "-i", str(inventory), "-e", f"@{path}", "--vault-id", str(password_file)]) == 0
    out = capsys.readouterr().out
    assert "Use the token - changed" in out and TOKEN not in out
    assert TOKEN not in every_text(runs)
    assert main(["run", "scenario", "-i", str(inventory), "-e", f"@{path}"]) == 2
    err = capsys.readouterr().err
    assert err == (f"runbook: error: -e @{path}: a !vault value is vault-encrypted and no vault password was "
                   "given: give the vault password with --vault-password-file, --vault-id or --ask-vault-pass\n")


def test_a_later_plain_value_wins_over_the_vaulted_file(tmp_path: Path, password_file: Path) -> None:
    path = tmp_path / "v.yml"
    path.write_text(encrypt("commit: HEAD~3\npayments: 'on'\n"))
    decryptor = Decryptor(VaultOptions(password_files=[str(password_file)]))
    extra = read_extra_vars_split(["commit=HEAD~9", f"@{path}", "payments=off"], decryptor)
    assert extra.values == {"commit": "HEAD~3", "payments": "off"}
    assert extra.vaulted == {"commit": "HEAD~3"}  # payments: the plain -e after the file, in the extra vars
    assert extra.vaulted_files == [str(path)]


def test_ask_vault_pass_needs_a_terminal(project: Path, runs: Path, inventory: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "scenario", "-i", str(inventory), "--ask-vault-pass"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("runbook: error: --ask-vault-pass (or a --vault-id ...@prompt) needs a terminal")


def test_vault_options_are_checked_and_passed_on(tmp_path: Path, password_file: Path) -> None:
    with pytest.raises(BadInput, match="--vault-password-file '/nonexistent': no such file"):
        check_options(VaultOptions(password_files=["/nonexistent"]))
    options = check_options(VaultOptions(vault_ids=[f"prod@{password_file}", "dev@prompt"],
                                         password_files=[str(password_file)], ask=True))
    assert options.playbook_args() == ["--vault-id", f"prod@{password_file}", "--vault-id", "dev@prompt",
                                       "--vault-password-file", str(password_file), "--ask-vault-pass"]
    options.asked.update({"default": "pw1", "dev": "pw2"})
    assert options.prompts() == {r"Vault password:\s*?$": "pw1", r"Vault password \(dev\):\s*?$": "pw2"}


def test_the_configs_vault_password_file_opens_the_file(project: Path, runs: Path, inventory: Path,
                                                        vaulted: Path, password_file: Path, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    """vault_password_file in the user's ansible.cfg applies (to the checks and to ansible-playbook)."""
    (tmp_path / "ansible.cfg").write_text(f"[defaults]\nvault_password_file = {password_file.name}\n")
    assert main(["run", "scenario", "-i", str(inventory), "-e", f"@{vaulted}"]) == 0, capsys.readouterr().err
    assert "Use the token - changed" in capsys.readouterr().out


def vaulted_inventory(inventory: Path, name: str, value: str) -> None:
    """Add a !vault host variable to the fixture's inventory (as a team keeps secrets there)."""
    block = encrypt(value).replace("\n", "\n        ")
    inventory.write_text(inventory.read_text() + f"      {name}: !vault |\n        {block}\n")


def test_a_vaulted_inventory_value_without_its_password_is_bad_input(project: Path, runs: Path, inventory: Path,
                                                                      dotenv: Path, password_file: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    """Nothing changed and the only failures are vault errors: exit 2, one line, no record, no escalation."""
    vaulted_inventory(inventory, "api_token", TOKEN)
    assert main(["run", "scenario", "-i", str(inventory)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("runbook: error: a vaulted variable could not be decrypted, nothing changed: localhost: "
                          "Attempting to decrypt but no vault secrets found; give the vault password")
    assert err.count("\n") == 1
    assert not runs.exists() or not list(runs.iterdir())
    assert main(["run", "scenario", "-i", str(inventory), "--vault-password-file", str(password_file)]) == 0
    out = capsys.readouterr().out
    assert "Use the token - changed" in out and TOKEN not in out


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root (become on localhost)")
def test_a_vaulted_become_password(project: Path, runs: Path, inventory: Path, password_file: Path,
                                   tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    vaulted_inventory(inventory, "ansible_become_password", "PLANTED-become-pw")
    wrong = tmp_path / "wrong"
    wrong.write_text("nope\n")
    assert main(["run", "scenario", "-i", str(inventory), "-b", "--vault-password-file", str(wrong)]) == 2
    assert "Decryption failed" in capsys.readouterr().err
    assert not runs.exists() or not list(runs.iterdir())
    assert main(["run", "scenario", "-i", str(inventory), "-b", "--vault-password-file", str(password_file)]) == 0
    assert "PLANTED-become-pw" not in every_text(runs)
