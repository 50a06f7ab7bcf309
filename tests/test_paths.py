# SPDX-License-Identifier: GPL-3.0-or-later
"""Where the CLI finds its playbooks: a work tree, the installed package, or a clear error."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from runbook import paths, runner
from runbook.errors import BadInput
from runbook.runner import envvars

ROOT = Path(__file__).resolve().parents[1]


def fake_package(base: Path) -> Path:
    """A runbook package folder as pip lays it out (…/site-packages/runbook); returns its paths.py."""
    package = base / "lib" / "python3" / "site-packages" / "runbook"
    package.mkdir(parents=True)
    return package / "paths.py"


def test_a_work_tree_is_found_two_levels_above_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RUNBOOK_PROJECT_DIR", raising=False)
    assert paths.project_dir() == ROOT


def test_the_installed_package_content_is_found_without_a_work_tree(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RUNBOOK_PROJECT_DIR", raising=False)
    module = fake_package(tmp_path)
    content = module.parent / "_content"
    (content / "playbooks").mkdir(parents=True)
    monkeypatch.setattr(paths, "__file__", str(module))
    assert paths.project_dir() == content


def test_no_playbooks_anywhere_is_bad_input_naming_both_places(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RUNBOOK_PROJECT_DIR", raising=False)
    module = fake_package(tmp_path)
    monkeypatch.setattr(paths, "__file__", str(module))
    with pytest.raises(BadInput) as refused:
        paths.project_dir()
    message = str(refused.value)
    assert "no playbooks/ directory" in message and "RUNBOOK_PROJECT_DIR" in message
    assert str(module.parent / "_content") in message and "\n" not in message


def test_runbook_project_dir_wins_and_must_hold_playbooks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "playbooks").mkdir()
    monkeypatch.setenv("RUNBOOK_PROJECT_DIR", str(tmp_path))
    assert paths.project_dir() == tmp_path.resolve()
    monkeypatch.setenv("RUNBOOK_PROJECT_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(BadInput, match="no playbooks/ directory in .*nowhere"):
        paths.project_dir()


def test_shipped_collections_come_first_in_the_installed_case(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "collections" / "ansible_collections").mkdir(parents=True)
    monkeypatch.setenv("ANSIBLE_COLLECTIONS_PATH", "/opt/mine")
    env = envvars(tmp_path)
    assert env["ANSIBLE_COLLECTIONS_PATH"] == f"{tmp_path / 'collections'}:/opt/mine"
    assert env["ANSIBLE_CONFIG"] == str(tmp_path / "ansible.cfg")
    assert env["ANSIBLE_ROLES_PATH"] == str(tmp_path / "roles")
    monkeypatch.delenv("ANSIBLE_COLLECTIONS_PATH")
    assert envvars(tmp_path)["ANSIBLE_COLLECTIONS_PATH"].startswith(f"{tmp_path / 'collections'}:~/.ansible")


def test_a_work_tree_puts_its_own_collection_first(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANSIBLE_COLLECTIONS_PATH", raising=False)
    assert envvars(ROOT)["ANSIBLE_COLLECTIONS_PATH"].startswith(f"{ROOT / 'collections'}:")


def test_a_folder_without_collections_leaves_the_path_alone(tmp_path: Path) -> None:
    assert "ANSIBLE_COLLECTIONS_PATH" not in envvars(tmp_path)


def make_collections(root: Path, *names: str) -> Path:
    for name in names:
        namespace, collection = name.split(".")
        (root / "ansible_collections" / namespace / collection).mkdir(parents=True)
    return root


def test_a_project_elsewhere_also_uses_the_collections_the_installed_package_ships(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """RUNBOOK_PROJECT_DIR at a clone: the clone holds runbook.ops only, the wheel community.docker."""
    monkeypatch.delenv("ANSIBLE_COLLECTIONS_PATH", raising=False)
    clone = tmp_path / "clone"
    make_collections(clone / "collections", "runbook.ops")
    installed = make_collections(tmp_path / "site" / "runbook" / "_content" / "collections",
                                 "runbook.ops", "community.docker")
    path = runner.collections_path(clone, None, installed).split(os.pathsep)
    assert path[:2] == [str(clone / "collections"), str(installed)]
    assert path[2:] == ["~/.ansible/collections", "/usr/share/ansible/collections"]
    # the user's configured folders still follow
    mine = runner.collections_path(clone, "/opt/team/collections", installed).split(os.pathsep)
    assert mine == [str(clone / "collections"), str(installed), "/opt/team/collections"]


def test_the_installed_package_itself_is_not_listed_twice(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANSIBLE_COLLECTIONS_PATH", raising=False)
    content = tmp_path / "runbook" / "_content"
    make_collections(content / "collections", "runbook.ops", "community.docker")
    path = runner.collections_path(content, None, content / "collections").split(os.pathsep)
    assert path == [str(content / "collections"), "~/.ansible/collections", "/usr/share/ansible/collections"]
    # a work tree with no wheel installed: nothing added
    tree = tmp_path / "tree"
    make_collections(tree / "collections", "runbook.ops")
    assert runner.collections_path(tree, None, tmp_path / "absent").split(os.pathsep)[:2] == [
        str(tree / "collections"), "~/.ansible/collections"]
