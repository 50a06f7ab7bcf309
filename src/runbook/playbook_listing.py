# SPDX-License-Identifier: GPL-3.0-or-later
"""`runbook run SCENARIO --list-hosts / --list-tasks`: ansible-playbook's own listing, printed as it is.

Nothing runs on a host and no run record is written. The extra vars go to ansible-playbook in a
private file (0600, removed afterwards), never on its command line.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from runbook.errors import BadInput
from runbook.redact import Redactor
from runbook.runner import RunRequest, envvars

TIMEOUT = 120.0


def list_playbook(request: RunRequest, what: list[str], redactor: Redactor) -> str:
    """ansible-playbook's output for `what` (--list-hosts, --list-tasks), redacted; BadInput when it fails."""
    private = Path(tempfile.mkdtemp(prefix="runbook-list-"))
    try:
        command = [_ansible_playbook(), *what, *request.playbook_args()]
        for inventory in request.inventory:
            command += ["-i", inventory]
        if request.limit:
            command += ["--limit", request.limit]
        if request.extra_vars:
            extra = private / "extravars.json"
            fd = os.open(extra, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(request.extra_vars, handle)
            command += ["-e", f"@{extra}"]
        command.append(str(request.scenario.path))
        if request.connection.vault.asked:
            raise BadInput("--list-hosts/--list-tasks cannot answer a vault password prompt; "
                           "use --vault-password-file")
        env = {**os.environ, **envvars(request.project, private)}
        try:
            done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=str(request.project),
                                  stdin=subprocess.DEVNULL, timeout=TIMEOUT, check=False)
        except (OSError, subprocess.SubprocessError) as exc:
            raise BadInput(f"ansible-playbook could not run: {exc}") from None
    finally:
        shutil.rmtree(private, ignore_errors=True)
    if done.returncode != 0:
        said = [line.strip() for line in done.stderr.splitlines() if line.strip()]
        reason = redactor.text(said[-1] if said else f"exit {done.returncode}")
        raise BadInput(f"ansible-playbook {' '.join(what)} failed: {reason[:300]}")
    return redactor.text(done.stdout)


def _ansible_playbook() -> str:
    beside = Path(sys.executable).parent / "ansible-playbook"
    return str(beside) if beside.is_file() else "ansible-playbook"
