# SPDX-License-Identifier: GPL-3.0-or-later
"""Files that are not importable packages: load a script (a tool, a molecule helper) by its
path, and run a collection module as Ansible runs it (a script fed a JSON arguments file).

The collection's plugins themselves are imported as Ansible imports them,
``from ansible_collections.runbook.ops.plugins.modules import runbook_diagnose``:
pytest puts ``collections/`` on ``sys.path`` (pyproject.toml, ``pythonpath``).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
COLLECTIONS = ROOT / "collections"
PLUGINS = COLLECTIONS / "ansible_collections" / "runbook" / "ops" / "plugins"
MODULES = PLUGINS / "modules"
FILTERS = PLUGINS / "filter"

# Runs a collection module as a script with the collection importable:
#   python -c RUN_MODULE COLLECTIONS MODULE ARGS_FILE
RUN_MODULE = (
    "import runpy, sys; "
    "sys.path.insert(0, sys.argv[1]); sys.argv = sys.argv[2:]; "
    "runpy.run_path(sys.argv[0], run_name='__main__')"
)


def load_module(path: Path, name: str | None = None) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name or path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def module_command(path: Path, args_file: Path) -> list[str]:
    """argv that runs a collection module as Ansible would (its arguments in a JSON file)."""
    return [sys.executable, "-c", RUN_MODULE, str(COLLECTIONS), str(path), str(args_file)]
