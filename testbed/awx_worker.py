# SPDX-License-Identifier: GPL-3.0-or-later
"""Run one playbook the way AWX runs a job: transmit | worker (in the EE) | process.

AWX lays out a private data dir (the project checkout under project/, the inventory, the
survey's answers in env/extravars), streams it with `ansible-runner transmit` to an
execution node, where `ansible-runner worker` runs it inside the execution environment
and streams the events back, and `ansible-runner process` writes them as artifacts on
the controller. This does the same on one machine, with the execution node being
`docker run -i IMAGE ansible-runner worker` and the engine's socket mounted, so that the
test bed's community.docker.docker connection reaches the test hosts from inside the EE.

    python testbed/awx_worker.py DIR -i INVENTORY -p playbooks/outage.yml [-e '{"commit": "abc1234"}']

DIR must not exist yet. The project is the work tree's tracked files (what AWX's project
sync checks out). Prints the artifacts folder; exits 0 when the job's status is
`successful`, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
IDENT = "job"
SOCKET = "/var/run/docker.sock"


def lay_out(private_data_dir: Path, inventory: Path, extravars: dict[str, object]) -> None:
    """The private data dir AWX prepares for a job."""
    project = private_data_dir / "project"
    tracked = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z"], check=True,
                             capture_output=True).stdout.decode().split("\0")
    for name in filter(None, tracked):
        source = ROOT / name
        if not source.is_symlink() and not source.exists():
            continue  # deleted in the work tree, not yet committed
        target = project / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_symlink():
            target.symlink_to(os.readlink(source))
        else:
            shutil.copy2(source, target)
    (private_data_dir / "inventory").mkdir()
    shutil.copy(inventory, private_data_dir / "inventory" / "hosts.yml")
    (private_data_dir / "env").mkdir()
    if extravars:
        (private_data_dir / "env" / "extravars").write_text(json.dumps(extravars), encoding="utf-8")


def worker_command(image: str) -> list[str]:
    """The execution node: the EE's own ansible-runner worker, as AWX's receptor starts it."""
    command = ["docker", "run", "-i", "--rm", "-v", f"{SOCKET}:{SOCKET}"]
    # The EE runs as uid 1000: it reaches the engine through the socket's group.
    command += ["--group-add", str(os.stat(SOCKET).st_gid)]
    return command + [image, "ansible-runner", "worker", "--private-data-dir=/runner"]


def run(private_data_dir: Path, playbook: str, image: str, timeout: float) -> int:
    """transmit | worker | process; returns the exit status of the first stage that failed."""
    runner = str(Path(sys.executable).parent / "ansible-runner")
    transmit = subprocess.Popen([runner, "transmit", str(private_data_dir), "-p", playbook, "--ident", IDENT],
                                stdout=subprocess.PIPE)
    worker = subprocess.Popen(worker_command(image), stdin=transmit.stdout, stdout=subprocess.PIPE)
    assert transmit.stdout and worker.stdout
    transmit.stdout.close()  # the worker holds the only reader now
    process = subprocess.Popen([runner, "process", str(private_data_dir), "--ident", IDENT],
                               stdin=worker.stdout)
    worker.stdout.close()
    codes = [proc.wait(timeout=timeout) for proc in (transmit, worker, process)]
    return next((code for code in codes if code != 0), 0)


def recap(artifacts: Path) -> dict[str, int]:
    """Events written, and the play recap's counts summed over hosts (from playbook_on_stats)."""
    events = [json.loads(path.read_text(encoding="utf-8")) for path in (artifacts / "job_events").glob("*.json")]
    counts = {"events": len(events)}
    for event in events:
        if event.get("event") == "playbook_on_stats":
            for key in ("ok", "changed", "failures", "dark", "rescued"):
                counts[key] = counts.get(key, 0) + sum((event["event_data"].get(key) or {}).values())
    return counts


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("private_data_dir", type=Path)
    parser.add_argument("-i", "--inventory", type=Path, required=True)
    parser.add_argument("-p", "--playbook", required=True, help="relative to the project, e.g. playbooks/outage.yml")
    parser.add_argument("-e", "--extravars", default="{}", help="a JSON object, as an AWX survey passes answers")
    parser.add_argument("--image", default=os.environ.get("RUNBOOK_EE_IMAGE", "runbook-ee:latest"))
    parser.add_argument("--timeout", type=float, default=900)
    args = parser.parse_args(argv)
    extravars = json.loads(args.extravars)
    if not isinstance(extravars, dict):
        parser.error("--extravars must be a JSON object")
    args.private_data_dir.mkdir(parents=True)
    lay_out(args.private_data_dir, args.inventory, extravars)
    code = run(args.private_data_dir, args.playbook, args.image, args.timeout)
    artifacts = args.private_data_dir / "artifacts" / IDENT
    status_file = artifacts / "status"
    status = status_file.read_text(encoding="utf-8").strip() if status_file.exists() else "none"
    counts = recap(artifacts) if artifacts.is_dir() else {}
    print(f"awx_worker: status {status}, pipeline exit {code}, "
          + ", ".join(f"{key} {value}" for key, value in counts.items())
          + f"; artifacts in {artifacts}", file=sys.stderr)
    return 0 if code == 0 and status == "successful" else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
