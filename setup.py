# SPDX-License-Identifier: GPL-3.0-or-later
"""Build step: the wheel carries the project's Ansible content and collections.

pyproject.toml holds the metadata; this adds one thing to setuptools' build_py:
ansible.cfg, playbooks/, roles/ and the project's own collection (runbook.ops, under
collections/ansible_collections/) are copied from the top of the work tree into
runbook/_content, and the collections of requirements.yml are extracted
there from the `ansible` bundle wheel (tools/fetch_collections.py). So a `runbook`
installed from the wheel finds everything next to itself (src/runbook/paths.py)
while the repository keeps its layout. An editable install runs from the work
tree and copies nothing.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT / "tools"))

import fetch_collections  # noqa: E402  (tools/ is not a package)

CONTENT = ("ansible.cfg", "playbooks", "roles", "collections/ansible_collections/runbook")
SKIP_NAMES = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache")


def skip(folder: str, names: list[str]) -> set[str]:
    """Caches, and playbooks/collections and playbooks/roles: symlinks to ../collections and
    ../roles in the work tree (a wheel cannot hold a symlink; the installed CLI puts
    _content/collections and _content/roles on the paths itself)."""
    skipped = set(SKIP_NAMES(folder, names))
    if Path(folder).name == "playbooks":
        skipped.update(name for name in ("collections", "roles") if name in names)
    return skipped


class BuildWithContent(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        target = Path(self.build_lib) / "runbook" / "_content"
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        for name in CONTENT:
            source = ROOT / name
            if source.is_dir():
                shutil.copytree(source, target / name, ignore=skip)
            else:
                shutil.copy2(source, target / name)
        fetch_collections.install(target / "collections", fetch_collections.required())


# Build under .cache/ (ignored by git, yamllint and ansible-lint), not in a build/ folder
# at the top, where the copies would be linted as the project's own files.
setup(cmdclass={"build_py": BuildWithContent}, options={"build": {"build_base": ".cache/build"}})
