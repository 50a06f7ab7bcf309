# SPDX-License-Identifier: GPL-3.0-or-later
"""The drill's hands on one staging host: playbooks/internal/drill.yml, one action per call.

read (probe + snapshot, as data), inject and undo run ansible-playbook with the
project's Ansible settings against the inventory, limited to the one host, over
the inventory's own connection (SSH on a real server). Children run in a
session of their own: a Ctrl-C reaches them as one SIGINT from here, after
which the caller still runs the undo.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runbook.runner import envvars

DRILL_PLAYBOOK = Path("playbooks") / "internal" / "drill.yml"


@dataclass
class Call:
    exit_code: int
    stdout: str
    stderr: str
    seconds: float
    why: str = ""  # the caller's own one-line reason, which Call.reason gives first

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    @property
    def last_lines(self) -> str:
        return "\n".join(self.output.strip().splitlines()[-12:])

    @property
    def reason(self) -> str:
        """Why it failed, in one line: why, else Ansible's first failed task's msg, else the last line that is no warning."""
        if self.why:
            return self.why[:600]
        for line in self.output.splitlines():
            if line.startswith("fatal:") and "=> " in line:
                try:
                    found = json.loads(line.split("=> ", 1)[1])
                except ValueError:
                    return line[:300]
                message = found.get("msg") or found.get("stderr") or ""
                return f"{line.split('=>')[0].strip()} {str(message).splitlines()[0] if message else ''}"[:300]
        lines = [line for line in self.output.strip().splitlines() if line.strip() and "WARNING" not in line]
        return (lines[-1] if lines else f"exit {self.exit_code}")[:300]


def call(argv: list[str], env: dict[str, str], cwd: Path, timeout: float) -> Call:
    """Run a child to its end; Ctrl-C here interrupts it (SIGINT, then SIGKILL) and is raised again."""
    start = time.monotonic()
    child = subprocess.Popen(argv, env=env, cwd=str(cwd), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        stdout, stderr = child.communicate(timeout=timeout)
    except KeyboardInterrupt:
        _stop(child)
        raise
    except subprocess.TimeoutExpired:
        _stop(child)
        return Call(124, "", f"(stopped after {timeout:.0f}s)", time.monotonic() - start)
    return Call(child.returncode, stdout, stderr, time.monotonic() - start)


def _stop(child: subprocess.Popen[str]) -> None:
    child.send_signal(signal.SIGINT)
    try:
        child.wait(timeout=60)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()


class Host:
    """One host of the inventory, as drill.yml reaches it."""

    def __init__(self, project: Path, inventory: list[str], name: str) -> None:
        self.project, self.inventory, self.name = project, inventory, name

    def playbook(self, playbook: Path, timeout: float, **extra: str) -> Call:
        """One of the project's playbooks against this host alone, extra vars as JSON."""
        argv = [_ansible_playbook(), str(self.project / playbook), "--limit", self.name]
        for source in self.inventory:
            argv += ["-i", source]
        for key, value in extra.items():
            argv += ["-e", json.dumps({key: value})]
        config = Path(tempfile.mkdtemp(prefix="runbook-drill-cfg-"))
        try:
            env = {**os.environ, **envvars(self.project, config)}
            return call(argv, env, self.project, timeout)
        finally:
            shutil.rmtree(config, ignore_errors=True)

    def read(self) -> dict[str, Any]:
        """{probe: {...}, snapshot: {...}}; {} when the host could not be read."""
        folder = Path(tempfile.mkdtemp(prefix="runbook-drill-read-"))
        out = folder / "read.json"
        try:
            done = self.playbook(DRILL_PLAYBOOK, 120, drill_action="read", drill_out=str(out))
            if done.exit_code != 0 or not out.is_file():
                return {}
            data = json.loads(out.read_text(encoding="utf-8"))
            return data if isinstance(data, dict) else {}
        except ValueError:
            return {}
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def inject(self, injection: str) -> Call:
        return self.playbook(DRILL_PLAYBOOK, 300, drill_action="inject", drill_injection=injection)

    def undo(self, injection: str) -> Call:
        return self.playbook(DRILL_PLAYBOOK, 600, drill_action="undo", drill_injection=injection)


def _ansible_playbook() -> str:
    beside = Path(sys.executable).parent / "ansible-playbook"
    return str(beside) if beside.is_file() else "ansible-playbook"
