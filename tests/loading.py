# SPDX-License-Identifier: GPL-3.0-or-later
"""Load a Python file that is not part of a package (a role's module or filter plugin, a tool) by its path.

Role modules import shared helpers from roles/runbook_common/module_utils as
``ansible.module_utils.<name>``, the way Ansible ships them; here that folder is
added to the package's search path, as Ansible does for a loaded role.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import ansible.module_utils

MODULE_UTILS = Path(__file__).resolve().parent.parent / "roles" / "runbook_common" / "module_utils"

# Runs a role module as a script with the role module_utils importable:
#   python -c RUN_MODULE MODULE_UTILS MODULE ARGS_FILE
RUN_MODULE = (
    "import runpy, sys, ansible.module_utils as utils; "
    "utils.__path__.append(sys.argv[1]); sys.argv = sys.argv[2:]; "
    "runpy.run_path(sys.argv[0], run_name='__main__')"
)


def use_role_module_utils() -> None:
    if str(MODULE_UTILS) not in ansible.module_utils.__path__:
        ansible.module_utils.__path__.append(str(MODULE_UTILS))


def load_module(path: Path, name: str | None = None) -> ModuleType:
    use_role_module_utils()
    spec = importlib.util.spec_from_file_location(name or path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def module_command(path: Path, args_file: Path) -> list[str]:
    """argv that runs a role module as Ansible would (its arguments in a JSON file)."""
    return [sys.executable, "-c", RUN_MODULE, str(MODULE_UTILS), str(path), str(args_file)]
