# SPDX-License-Identifier: GPL-3.0-or-later
"""Load a Python file that is not part of a package (a plugin of the runbook.ops collection, a tool) by its path.

The collection's modules import their shared code as
``ansible_collections.runbook.ops.plugins.module_utils.<name>``, the way Ansible
ships it; pytest puts ``collections/`` on ``sys.path`` (pyproject.toml,
``pythonpath``), so that import works here as it does on a host.
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
