# SPDX-License-Identifier: GPL-3.0-or-later
"""Where things live: the project (playbooks/, ansible.cfg) and the runs directory."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from runbook.errors import BadInput


def project_dir() -> Path:
    """Where playbooks/, roles/ and ansible.cfg are.

    $RUNBOOK_PROJECT_DIR when set; else the work tree this package runs from
    (src/runbook two levels below it: a clone or an editable install); else the
    content shipped inside the installed package (runbook/_content, see setup.py).
    """
    override = os.environ.get("RUNBOOK_PROJECT_DIR")
    if override:
        root = Path(override).expanduser().resolve()
        if not (root / "playbooks").is_dir():
            raise BadInput(f"no playbooks/ directory in {root} (RUNBOOK_PROJECT_DIR)")
        return root
    package = Path(__file__).resolve().parent
    for root in (package.parents[1], shipped_content()):
        if (root / "playbooks").is_dir():
            return root
    raise BadInput(
        f"no playbooks/ directory: not in a work tree ({package.parents[1]}) nor shipped with the "
        f"package ({package / '_content'}); reinstall runbook from its wheel, or set "
        "RUNBOOK_PROJECT_DIR to the project root"
    )


def shipped_content() -> Path:
    """Where an installed wheel keeps its playbooks, roles and collections (runbook/_content)."""
    return Path(__file__).resolve().parent / "_content"


def runs_dir() -> Path:
    """$RUNBOOK_RUNS_DIR, else $XDG_STATE_HOME/runbook/runs, else ~/.local/state/runbook/runs."""
    override = os.environ.get("RUNBOOK_RUNS_DIR")
    if override:
        return Path(override).expanduser().resolve()
    state_home = os.environ.get("XDG_STATE_HOME")
    if state_home:
        return Path(state_home).expanduser().resolve() / "runbook" / "runs"
    return Path.home() / ".local" / "state" / "runbook" / "runs"


def writable_runs_dir() -> Path:
    """The runs directory, created if needed and proven writable; BadInput (one line) otherwise."""
    runs = runs_dir()
    try:
        runs.mkdir(parents=True, exist_ok=True, mode=0o700)
        probe = Path(tempfile.mkdtemp(prefix=".write-check-", dir=runs))
        probe.rmdir()
    except OSError as exc:
        reason = exc.strerror or exc.__class__.__name__
        raise BadInput(f"cannot write runs under {runs}: {reason} (set RUNBOOK_RUNS_DIR)") from None
    return runs
