# SPDX-License-Identifier: GPL-3.0-or-later
"""The modules that run programs on the host do it through Ansible's module API:
module.get_bin_path() finds the program, module.run_command() runs it, and
runbook_command.bounded() keeps a time limit on it (coreutils' timeout) so a
program that hangs ends the task instead of holding it. The modules run here as
Ansible runs them (a JSON args file), against fake programs on PATH."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from loading import MODULES, module_command

from ansible_collections.runbook.ops.plugins.module_utils import runbook_command

DATABASE = MODULES / "database_check_probe.py"
SERVICES = MODULES / "payments_switch_services.py"
RESOURCES = MODULES / "runbook_resources.py"
DAEMON = MODULES / "runbook_docker_daemon.py"


def run_module(path: Path, args: dict, tmp_path: Path, bin_dir: Path) -> dict:
    """The module's JSON result, run with only bin_dir (and the system's /usr/bin) on PATH."""
    args_file = tmp_path / "args.json"
    args_file.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
    env = dict(os.environ, PATH="%s:/usr/bin:/bin" % bin_dir)
    proc = subprocess.run(module_command(path, args_file), capture_output=True, text=True, env=env,
                          timeout=60, check=False)
    return json.loads(proc.stdout)


def fake(bin_dir: Path, name: str, body: str) -> None:
    """A program `name` in bin_dir: a Python script whose body sees argv as `args`."""
    bin_dir.mkdir(exist_ok=True)
    script = bin_dir / name
    script.write_text(f"#!{sys.executable}\nimport json, sys, time\nargs = sys.argv[1:]\n{body}\n")
    script.chmod(0o755)


class FakeModule:
    def __init__(self, found: dict) -> None:
        self.found = found

    def get_bin_path(self, name: str) -> str | None:
        return self.found.get(name)


def test_bounded_puts_timeout_in_front_when_the_host_has_it():
    module = FakeModule({"timeout": "/usr/bin/timeout"})
    assert runbook_command.bounded(module, ["docker", "ps"], 30) == ["/usr/bin/timeout", "--kill-after=5", "30", "docker", "ps"]


def test_bounded_leaves_the_command_alone_without_timeout():
    assert runbook_command.bounded(FakeModule({}), ("docker", "ps"), 30) == ["docker", "ps"]


def test_database_client_that_hangs_is_stopped(tmp_path):
    """pg_isready that never answers: the probe ends after timeout + 5 s and says so, psql still runs."""
    env_file = tmp_path / ".env"
    env_file.write_text("DATABASE_URL=postgresql://app:pw@127.0.0.1:5432/app\n")
    bin_dir = tmp_path / "bin"
    fake(bin_dir, "pg_isready", "time.sleep(60)")
    fake(bin_dir, "psql", "print(1)")
    began = time.monotonic()
    result = run_module(DATABASE, {"path": str(env_file), "timeout": 0}, tmp_path, bin_dir)
    assert time.monotonic() - began < 30
    assert (result["ready"], result["ready_message"]) == (False, "no answer within 5 s")
    assert (result["select_ok"], result["answers"]) == (True, False)


def test_services_fail_with_docker_compose_last_error_line(tmp_path):
    bin_dir = tmp_path / "bin"
    fake(bin_dir, "docker", "sys.stderr.write('validating compose.yaml\\nservices.api: bad image\\n'); sys.exit(15)")
    result = run_module(SERVICES, {"project_dir": str(tmp_path), "env_file": str(tmp_path / ".env")}, tmp_path, bin_dir)
    assert result["failed"] is True
    assert result["msg"] == "docker compose config in %s failed (rc 15): services.api: bad image" % tmp_path


def test_services_refuse_a_project_dir_that_does_not_exist(tmp_path):
    bin_dir = tmp_path / "bin"
    fake(bin_dir, "docker", "print('{}')")
    missing = tmp_path / "nowhere"
    result = run_module(SERVICES, {"project_dir": str(missing), "env_file": str(tmp_path / ".env")}, tmp_path, bin_dir)
    assert result["failed"] is True
    assert str(missing) in result["msg"]


def test_services_read_the_switch_through_docker(tmp_path):
    """compose config, compose ps and inspect answered by a fake docker: the stale service is named."""
    env_file = tmp_path / ".env"
    env_file.write_text("ENABLE_STRIPE_PAYMENTS=false\n")
    config = {"services": {"api": {"env_file": [{"path": str(env_file)}]}, "redis": {}}}
    containers = [{"Service": "api", "ID": "a1", "State": "running"}, {"Service": "redis", "ID": "r1", "State": "running"}]
    bin_dir = tmp_path / "bin"
    fake(bin_dir, "docker", f"""
if args[:2] == ["compose", "config"]:
    print(json.dumps({config!r}))
elif args[:2] == ["compose", "ps"]:
    print(json.dumps({containers!r}))
elif args[0] == "inspect":
    print("a1full " + json.dumps(["ENABLE_STRIPE_PAYMENTS=true"]))
""")
    result = run_module(SERVICES, {"project_dir": str(tmp_path), "env_file": str(env_file), "wanted": "false"},
                        tmp_path, bin_dir)
    assert (result["services"], result["running"], result["stale"]) == (["api"], {"api": ["true"]}, ["api"])


def test_resources_sample_through_docker_and_ps(tmp_path):
    bin_dir = tmp_path / "bin"
    fake(bin_dir, "docker", """
if args[:2] == ["compose", "ps"]:
    print(json.dumps({"ID": "0123456789abcdef", "Service": "api"}))
elif args[0] == "stats":
    print(json.dumps({"ID": "0123456789ab", "Name": "app-api-1", "CPUPerc": "90.00%", "MemPerc": "10.00%",
                      "MemUsage": "100MiB / 1GiB"}))
""")
    fake(bin_dir, "ps", "print('   42 app   95.0  1.5  2048 node server.js')")
    result = run_module(RESOURCES, {"compose_dir": str(tmp_path), "samples": 2}, tmp_path, bin_dir)
    assert result["samples"] == 2
    assert [(c["service"], c["cpu"], c["samples"]) for c in result["containers"]] == [("api", 90.0, [90.0, 90.0])]
    assert [c["why"] for c in result["over"]] == ["CPU 90.0% > 80%"]
    assert result["top_cpu"] == result["top_mem"] == [
        {"pid": 42, "user": "app", "cpu": 95.0, "mem": 1.5, "rss_kb": 2048, "command": "node server.js"}]


def test_docker_daemon_reads_the_engine_through_docker_and_warns_on_a_bad_file(tmp_path):
    """An unparsable daemon.json is a warning (module.warn) and a problem, never a write."""
    config = tmp_path / "daemon.json"
    config.write_text("[1, 2]\n")
    bin_dir = tmp_path / "bin"
    fake(bin_dir, "docker", """
if args[0] == "info":
    print(json.dumps({"LiveRestoreEnabled": True, "Swarm": {"LocalNodeState": "inactive"}}))
""")
    fake(bin_dir, "dockerd", "print('  --validate   Validate daemon configuration and exit')")
    args = {"config": str(config), "max_size": "10m", "max_file": 3, "pidfile": str(tmp_path / "docker.pid")}
    result = run_module(DAEMON, args, tmp_path, bin_dir)
    assert result["write"] is False and result["problem"].startswith("%s is not a JSON object" % config)
    # ansible-core 2.19 returns each warning as {"event": {"msg": ...}}, earlier ones as the text
    assert [w["event"]["msg"] if isinstance(w, dict) else w for w in result["warnings"]] == [result["problem"]]
    assert (result["live_restore"], result["swarm"], result["validate_supported"]) == (True, "inactive", True)
    assert (result["uncapped"], result["other_drivers"], result["engine_pid"]) == ([], [], 0)
