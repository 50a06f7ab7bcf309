# SPDX-License-Identifier: GPL-3.0-or-later
"""Start or remove a disposable test host outside molecule (demo, integration tests).

The container settings are read from the one platform definition that every
molecule scenario uses (.config/molecule/config.yml), so there is one place to
switch between the capability list and `privileged: true`.

    python testbed/testhost.py up NAME INVENTORY_PATH   # start, wait for systemd, write inventory
    python testbed/testhost.py down NAME

RUNBOOK_TESTHOST_DEVICES (space-separated host device paths) adds `--device` for each,
e.g. the loop devices `make drill` gives its host for the disk-full drill's filesystem.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
PLATFORM_FILE = ROOT / ".config" / "molecule" / "config.yml"


def _expand(text: str) -> str:
    """Expand ${VAR} and ${VAR:-default} as molecule does."""

    def repl(m: re.Match[str]) -> str:
        name, default = m.group(1), m.group(3)
        return os.environ.get(name) or (default if default is not None else "")

    return re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(:-([^}]*))?\}", repl, text)


def platform() -> dict:
    config = yaml.safe_load(_expand(PLATFORM_FILE.read_text()))
    return config["platforms"][0]


def docker_run_args(name: str, spec: dict) -> list[str]:
    args = ["docker", "run", "-d", "--name", name, "--hostname", name,
            "--label", "runbook.testhost=1",
            "--network", spec.get("network_mode", "none"),
            "--cgroupns", spec.get("cgroupns_mode", "host")]
    if str(spec.get("privileged", "false")).lower() == "true":
        args.append("--privileged")
    for key, value in (spec.get("env") or {}).items():
        args += ["-e", f"{key}={value}"]
    for volume in spec.get("volumes") or []:
        args += ["-v", volume]
    for tmpfs in spec.get("tmpfs") or []:
        args += ["--tmpfs", tmpfs]
    for opt in spec.get("security_opts") or []:
        args += ["--security-opt", opt]
    for cap in spec.get("capabilities") or []:
        args += ["--cap-add", cap]
    for device in os.environ.get("RUNBOOK_TESTHOST_DEVICES", "").split():
        args += ["--device", device]
    image = spec["image"]
    if not image:
        raise SystemExit("testhost: RUNBOOK_TESTHOST_IMAGE is not set (run `make images`)")
    return args + [image, spec.get("command", "/lib/systemd/systemd")]


def wait_for_systemd(name: str, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    state = ""
    while time.monotonic() < deadline:
        out = subprocess.run(["docker", "exec", name, "systemctl", "is-system-running"],
                             capture_output=True, text=True)
        state = out.stdout.strip()
        if state in ("running", "degraded"):
            return
        time.sleep(1)
    raise SystemExit(f"testhost: systemd in {name} did not finish booting (state: {state!r})")


def write_inventory(name: str, path: Path) -> None:
    inventory = {"app_servers": {"hosts": {name: {
        "ansible_connection": "community.docker.docker",
        "ansible_host": name,
        "ansible_python_interpreter": "/usr/bin/python3",
    }}}}
    path.write_text(yaml.safe_dump(inventory, sort_keys=False))


def up(name: str, inventory: Path) -> None:
    down(name)
    subprocess.run(docker_run_args(name, platform()), check=True, stdout=subprocess.DEVNULL)
    wait_for_systemd(name)
    write_inventory(name, inventory)
    print(f"testhost: {name} is up; inventory {inventory}")


def down(name: str) -> None:
    subprocess.run(["docker", "rm", "-f", "-v", name], capture_output=True)


def main(argv: list[str]) -> int:
    if len(argv) == 3 and argv[0] == "up":
        up(argv[1], Path(argv[2]))
        return 0
    if len(argv) == 2 and argv[0] == "down":
        down(argv[1])
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
