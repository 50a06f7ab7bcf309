# SPDX-License-Identifier: GPL-3.0-or-later
"""The built wheel in a fresh venv outside the repository: how the integration tests make it.

`installed_wheel` builds the wheel from a copy of the sources (as `pip wheel` would from a
clone), checks it carries the content, installs it into a new venv with the package index
(pip's cache makes a repeat quick) and returns that venv's bin/ folder. The fresh venv has
ansible-core but no collections of its own: the docker connection and the callbacks can only
come from the ones shipped in the wheel. tests/conftest.py makes it the
session-wide `installed` fixture, so the wheel is built once per run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "requirements.yml", "ansible.cfg",
           "tools/fetch_collections.py", "src/runbook", "playbooks", "roles", "collections")
IN_WHEEL = ("runbook/_content/ansible.cfg", "runbook/_content/playbooks/outage.yml",
            "runbook/_content/playbooks/internal/release_lock.yml",
            "runbook/_content/playbooks/callback_plugins/runbook_guard.py",
            "runbook/_content/collections/ansible_collections/runbook/ops/plugins/modules/runbook_lock.py",
            "runbook/_content/collections/ansible_collections/runbook/ops/plugins/filter/runbook_redact.py",
            "runbook/_content/collections/ansible_collections/runbook/ops/plugins/callback/runbook_guard.py",
            "runbook/_content/collections/ansible_collections/community/docker/MANIFEST.json",
            "runbook/_content/collections/ansible_collections/ansible/posix/MANIFEST.json")


def run(*command: str | Path, cwd: Path, env: dict[str, str] | None = None,
        timeout: int = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(part) for part in command], cwd=cwd, env=env, text=True,
                          capture_output=True, stdin=subprocess.DEVNULL, timeout=timeout)


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without anything pointing back at the repository or its venv."""
    env = {key: value for key, value in os.environ.items()
           if key not in ("RUNBOOK_PROJECT_DIR", "PYTHONPATH", "VIRTUAL_ENV", "ANSIBLE_CONFIG",
                          "ANSIBLE_ROLES_PATH", "ANSIBLE_COLLECTIONS_PATH")}
    env["PATH"] = os.pathsep.join(part for part in env.get("PATH", "").split(os.pathsep)
                                  if not part.startswith(str(ROOT)))
    env.update(extra)
    return env


def installed_wheel(base: Path) -> Path:
    """The bin/ folder of a fresh venv, under `base`, holding the wheel built from this work tree."""
    source = base / "source"
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    env = clean_env()
    bundle = next((ROOT / ".cache" / "wheels").glob("ansible-*.whl"), None)
    if bundle is not None:  # `make venv` kept it: no second download
        env["RUNBOOK_ANSIBLE_WHEEL"] = str(bundle)
    built = run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", base / "dist", source,
                cwd=base, env=env)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    (wheel,) = (base / "dist").glob("runbook_incident-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = [name for name in IN_WHEEL if name not in names]
    assert not missing, f"not in {wheel.name}: {missing}"

    venv = base / "venv"
    made = run(sys.executable, "-m", "venv", venv, cwd=base, env=clean_env())
    assert made.returncode == 0, made.stderr
    done = run(venv / "bin" / "python", "-m", "pip", "install", "--quiet", wheel, cwd=base, env=clean_env())
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    site = run(venv / "bin" / "python", "-c", "import sysconfig; print(sysconfig.get_path('purelib'))",
               cwd=base, env=clean_env()).stdout.strip()
    assert not (Path(site) / "ansible_collections").exists(), "the venv has collections besides the wheel's"
    return venv / "bin"
