# SPDX-License-Identifier: GPL-3.0-or-later
"""Helpers of this scenario's verify: run playbooks/diagnose.yml from the
controller as CI would (ansible-playbook, JSON callback) and read what it
published and showed; read a certificate and the app's .env secrets on the host.
Used by test_diagnose.py (the healthy host) and test_diagnose_broken.py (which
breaks the host: pytest runs it second, by name)."""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any


ROOT = Path(os.environ.get("MOLECULE_PROJECT_DIRECTORY", Path(__file__).resolve().parents[3]))
# Keys of the guide that move between two runs by themselves (times measured, ages, the machine's load).
VOLATILE = frozenset({"elapsed", "age", "heartbeat_age", "memory_pct", "memory_over", "cpu_pct", "load1", "load_pct",
                      "cpu_over"})
# What nginx serves on 443 for the domain, as a shell pipeline's first half.
SERVED = "openssl s_client -connect 127.0.0.1:443 -servername api.echoelmusic.com </dev/null 2>/dev/null"
LINEAGE = "/etc/letsencrypt/live/api.echoelmusic.com/cert.pem"


@dataclass
class Run:
    json: dict[str, Any]
    document: str  # the JSON document as printed
    text: str  # everything ansible-playbook printed, -v included
    host: str

    @property
    def stats(self) -> dict[str, Any]:
        return self.json["stats"][self.host]

    @property
    def published(self) -> dict[str, Any]:
        return self.json["global_custom_stats"]

    @property
    def diagnosis(self) -> dict[str, Any]:
        return self.published["diagnosis"][self.host]

    @property
    def guide(self) -> dict[str, Any]:
        return self.diagnosis["guide"]

    @property
    def checks(self) -> dict[str, str]:
        return {item["check"]: item["result"] for item in self.diagnosis["checks"]}

    @property
    def message(self) -> list[str]:
        for play in self.json["plays"]:
            for task in play["tasks"]:
                msg = task["hosts"].get(self.host, {}).get("msg")
                if isinstance(msg, list) and msg and str(msg[0]).startswith("Diagnosis of "):
                    return msg
        raise AssertionError("no diagnosis message in the output")


def steady(value: Any) -> Any:
    """The guide without what moves between two runs by itself."""
    if isinstance(value, dict):
        return {key: steady(item) for key, item in value.items() if key not in VOLATILE}
    if isinstance(value, list):
        return [steady(item) for item in value]
    return value


def _ansible_playbook() -> str:
    beside = Path(sys.executable).parent / "ansible-playbook"
    return str(beside) if beside.exists() else shutil.which("ansible-playbook") or "ansible-playbook"


def run_diagnose(*args: str) -> Run:
    """ansible-playbook -v playbooks/diagnose.yml [args] against the scenario's host, with the JSON callback."""
    env = dict(os.environ, ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", ANSIBLE_SHOW_CUSTOM_STATS="1",
               ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    result = subprocess.run([_ansible_playbook(), "-v", "-i", os.environ["MOLECULE_INVENTORY_FILE"],
                             "playbooks/diagnose.yml", *args], cwd=ROOT, capture_output=True, text=True,
                            timeout=300, env=env)
    text = result.stdout + result.stderr
    assert result.returncode == 0, text[-3000:]
    # The timing callbacks print around the JSON document; it starts at a line "{".
    start = result.stdout.index("\n{\n") + 1
    output, end = json.JSONDecoder().raw_decode(result.stdout[start:])
    hosts = list(output["stats"])
    assert len(hosts) == 1, hosts
    return Run(json=output, document=result.stdout[start:start + end], text=text, host=hosts[0])


def env_secrets(host: Any, env_file: str) -> dict[str, str]:
    """{name: value} of the app's .env secrets (names with KEY, SECRET, TOKEN, PASSWORD; DATABASE_URL and its password)."""
    values = {}
    for line in host.check_output("cat %s", env_file).splitlines():
        name, _, value = line.partition("=")
        if name == "DATABASE_URL":
            values[name] = value
            values[name + " password"] = value.split("://", 1)[1].split("@", 1)[0].split(":", 1)[1]
        elif any(word in name for word in ("KEY", "SECRET", "TOKEN", "PASSWORD")):
            values[name] = value
    assert len(values) >= 5 and all(len(value) >= 16 for value in values.values()), "the fixture's .env changed"
    return values


def leaked(secrets: dict[str, str], *texts: str) -> list[str]:
    """The names of the secrets found in any of the texts (never a value, so a failure prints none)."""
    return sorted(name for name, value in secrets.items() if any(value in text for text in texts))


def certificate_on_host(host: Any, source: str) -> tuple[int, str]:
    """(whole days left on the host's clock, serial) of the certificate a shell command prints, read by openssl."""
    out = host.check_output(source + " | openssl x509 -noout -enddate -serial -dateopt iso_8601")
    fields = dict(line.split("=", 1) for line in out.splitlines())
    end = int(host.check_output("date -u -d %s +%%s", fields["notAfter"]))
    now = int(host.check_output("date +%s"))
    return math.floor((end - now) / 86400), "%X" % int(fields["serial"], 16)
