# SPDX-License-Identifier: GPL-3.0-or-later
"""tools/fetch_collections.py: only the listed collections, at the listed versions."""

from __future__ import annotations

import json
import re
import sysconfig
import zipfile
from pathlib import Path

import pytest

from loading import load_module

ROOT = Path(__file__).resolve().parents[1]


tool = load_module(ROOT / "tools" / "fetch_collections.py")


def manifest(version: str) -> str:
    return json.dumps({"collection_info": {"version": version}})


@pytest.fixture
def bundle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A small stand-in for the bundle wheel: two collections, one not asked for."""
    wheel = tmp_path / "ansible-0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("ansible_collections/community/docker/MANIFEST.json", manifest("4.8.5"))
        archive.writestr("ansible_collections/community/docker/plugins/connection/docker.py", "# docker\n")
        archive.writestr("ansible_collections/cisco/ios/MANIFEST.json", manifest("1.0.0"))
        archive.writestr("ansible-0.dist-info/METADATA", "Name: ansible\n")
    monkeypatch.setenv("RUNBOOK_ANSIBLE_WHEEL", str(wheel))
    return wheel


def test_only_the_listed_collections_are_extracted(bundle: Path, tmp_path: Path) -> None:
    dest = tmp_path / "site"
    assert tool.install(dest, {"community.docker": "4.8.5"}, tool.sha256(bundle)) == ["community.docker"]
    assert (dest / "ansible_collections/community/docker/plugins/connection/docker.py").is_file()
    assert not (dest / "ansible_collections/cisco").exists()
    assert not (dest / "ansible-0.dist-info").exists()
    assert tool.install(dest, {"community.docker": "4.8.5"}, "unused") == []  # already there: nothing to do


def test_a_bundle_whose_digest_is_not_the_locked_one_is_refused(bundle: Path, tmp_path: Path) -> None:
    dest = tmp_path / "site"
    with pytest.raises(SystemExit, match=r"has sha256 [0-9a-f]{64}, expected 0{64} \(ansible 12\.3\.0\)"):
        tool.install(dest, {"community.docker": "4.8.5"}, "0" * 64)
    assert not (dest / "ansible_collections").exists()


def test_the_locked_digest_is_the_bundle_wheels() -> None:
    cached = ROOT / ".cache" / "wheels" / f"ansible-{tool.BUNDLE_VERSION}-py3-none-any.whl"
    if not cached.is_file():
        pytest.skip("no bundle wheel in .cache/wheels (make venv downloads it)")
    assert tool.sha256(cached) == tool.BUNDLE_SHA256


def test_a_version_other_than_the_bundles_is_refused(bundle: Path, tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="community.docker is 4.8.5 .*wants 9.9.9"):
        tool.install(tmp_path / "site", {"community.docker": "9.9.9"}, tool.sha256(bundle))


def test_a_collection_missing_from_the_bundle_is_refused(bundle: Path, tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="community.general is not in"):
        tool.install(tmp_path / "site", {"community.general": "11.4.2"}, tool.sha256(bundle))


def used_collections() -> set[str]:
    """namespace.name of every module, plugin or connection the project names by FQCN."""
    files = [ROOT / "ansible.cfg", *(ROOT / "testbed").glob("*.py")]
    for folder in ("playbooks", "roles", "molecule", "testbed", ".config"):
        files += [path for path in (ROOT / folder).rglob("*.yml") if "fixture/app" not in str(path)]
    used: set[str] = set()
    for path in files:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.lstrip().startswith(("from ", "import ")):
                continue  # a Python import of ansible-core (ansible.utils.vars), not a collection
            used.update(match.group(1) for match in FQCN.finditer(line))
    return used - {"ansible.builtin"}


FQCN = re.compile(r"\b((?:ansible|community|awx)\.[a-z0-9_]+)\.[a-z0-9_]+")


def test_requirements_list_exactly_the_collections_the_project_uses() -> None:
    wanted = set(tool.required()) - {"community.library_inventory_filtering_v1"}  # community.docker's dependency
    assert used_collections() == wanted


def test_this_venv_has_the_required_versions() -> None:
    site = Path(sysconfig.get_path("purelib"))
    for fqcn, version in tool.required().items():
        assert tool.installed_version(site, fqcn) == version, fqcn
