#!/usr/bin/python
# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Does the database named by the app's DATABASE_URL answer? Read-only, one round trip.

Reads the app's .env on the host and reports which database variables are set
(names only, never values), then tests the database directly: `pg_isready`
and a `SELECT 1` through `psql`. The connection's parts reach both programs in
the PG* environment variables of the child process (the password in
PGPASSWORD), never on a command line, and no value of .env is returned: the
target is shown as host:port/database only.
"""

from __future__ import annotations

DOCUMENTATION = r"""
module: database_check_probe
short_description: Report the database variables of an env file (names only) and test the database it names
options:
  path: {type: path, required: true, description: The app's .env file.}
  url_variable: {type: str, default: DATABASE_URL, description: The variable holding the database URL.}
  variables: {type: list, elements: str, default: [DATABASE_URL], description: Variables whose presence is reported.}
  timeout: {type: int, default: 5, description: Seconds each connection attempt may take.}
"""

import os
import shutil
import subprocess
from urllib.parse import parse_qs, unquote, urlsplit

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.runbook.ops.plugins.module_utils.runbook_env import parse_env


def connection(url):
    """(PG* environment, shown target) of a postgres URL; the password only in the environment."""
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql"):
        return None, ""
    env = {
        "PGHOST": parts.hostname or "localhost",
        "PGPORT": str(parts.port or 5432),
        "PGDATABASE": unquote(parts.path.lstrip("/")) or unquote(parts.username or "postgres"),
        "PGUSER": unquote(parts.username or "postgres"),
    }
    if parts.password is not None:
        env["PGPASSWORD"] = unquote(parts.password)
    sslmode = parse_qs(parts.query).get("sslmode")
    if sslmode:
        env["PGSSLMODE"] = sslmode[0]
    return env, "%s:%s/%s" % (env["PGHOST"], env["PGPORT"], env["PGDATABASE"])


def scrub(text, secrets):
    """A program's message, first line, with any secret replaced."""
    line = (text or "").strip().splitlines()[0] if (text or "").strip() else ""
    for secret in secrets:
        if secret:
            line = line.replace(secret, "********")
    return line[:300]


def run(argv, env, timeout):
    """(rc, message) of a client program; arguments carry no secret."""
    try:
        proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout + 5)
    except subprocess.TimeoutExpired:
        return 124, "no answer within %d s" % (timeout + 5)
    except OSError as exc:
        return 127, exc.strerror
    return proc.returncode, (proc.stderr or proc.stdout)


def main():
    module = AnsibleModule(
        argument_spec={
            "path": {"type": "path", "required": True},
            "url_variable": {"type": "str", "default": "DATABASE_URL"},
            "variables": {"type": "list", "elements": "str", "default": ["DATABASE_URL"]},
            "timeout": {"type": "int", "default": 5},
        },
        supports_check_mode=True,
    )
    params = module.params
    try:
        with open(params["path"], encoding="utf-8", errors="replace") as fh:
            values = parse_env(fh.read())
    except OSError as exc:
        module.fail_json(msg="Cannot read %s: %s" % (params["path"], exc.strerror))
    result = {
        "changed": False,
        "present": {name: bool(values.get(name)) for name in params["variables"]},
        "target": "",
        "ready": False,
        "ready_message": "",
        "select_ok": False,
        "select_message": "",
        "answers": False,
    }
    url = values.get(params["url_variable"], "")
    conn, target = connection(url) if url else (None, "")
    if conn is None:
        result["ready_message"] = ("%s is not set" % params["url_variable"]) if not url else \
            "%s is not a postgres URL" % params["url_variable"]
        module.exit_json(**result)
    result["target"] = target
    secrets = [conn.get("PGPASSWORD", ""), url]
    missing = [prog for prog in ("pg_isready", "psql") if not shutil.which(prog)]
    if missing:
        result["ready_message"] = "%s not installed (apt-get install postgresql-client)" % " and ".join(missing)
        module.exit_json(**result)
    env = dict(os.environ, PGCONNECT_TIMEOUT=str(params["timeout"]), **conn)
    timeout = params["timeout"]
    rc, message = run(["pg_isready", "-t", str(timeout)], env, timeout)
    result["ready"] = rc == 0
    result["ready_message"] = scrub(message, secrets)
    rc, message = run(["psql", "-X", "-w", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1", "-c", "SELECT 1"], env, timeout)
    result["select_ok"] = rc == 0 and message.strip() == "1"
    result["select_message"] = "SELECT 1 answered 1" if result["select_ok"] else scrub(message, secrets)
    result["answers"] = result["ready"] and result["select_ok"]
    module.exit_json(**result)


if __name__ == "__main__":
    main()
