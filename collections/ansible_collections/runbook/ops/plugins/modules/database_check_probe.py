#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
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
version_added: 0.2.0
author: runbook maintainers (!UNKNOWN)
description:
  - Reads the app's env file on the host and reports which database variables are set, by name only.
  - Then tests the database that O(url_variable) names, directly, with C(pg_isready) and a C(SELECT 1)
    through C(psql). The connection's parts reach both programs in the C(PG*) environment variables
    of the child process (the password in C(PGPASSWORD)), never on a command line.
  - No value of the env file is returned. The target is shown as C(host:port/database) only, and the
    programs' messages have the password and the URL replaced.
  - The module only reads, and never reports a change.
requirements:
  - C(pg_isready) and C(psql) on the host (Debian package C(postgresql-client)). Without them the
    module reports the variables and says what to install.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - runbook.ops.read_only
attributes:
  check_mode:
    details: The module only reads; it tests the database the same way in check mode.
  platform:
    platforms: posix
options:
  path:
    description: The app's env file (C(.env)).
    type: path
    required: true
  url_variable:
    description: The variable holding the database URL (C(postgres://) or C(postgresql://)).
    type: str
    default: DATABASE_URL
  variables:
    description: The variables whose presence is reported (by name, never their values).
    type: list
    elements: str
    default: [DATABASE_URL]
  timeout:
    description:
      - Seconds each connection attempt may take (C(pg_isready -t) and C(PGCONNECT_TIMEOUT)).
      - Each program is stopped after this plus 5 seconds when the host has coreutils' C(timeout).
    type: int
    default: 5
"""

EXAMPLES = r"""
- name: Read which database variables the app's .env sets, and test the database it names
  runbook.ops.database_check_probe:
    path: /srv/app/.env
    url_variable: DATABASE_URL
    variables: [DATABASE_URL, SUPABASE_URL, SUPABASE_SERVICE_KEY]
    timeout: 5
  register: database_check_db
  check_mode: false

- name: Say whether the database answers
  ansible.builtin.debug:
    msg: "{{ database_check_db.target }}: {{ 'answers' if database_check_db.answers else database_check_db.ready_message }}"
"""

RETURN = r"""
present:
  description: Per name in O(variables), whether the env file sets it to a non-empty value.
  returned: always
  type: dict
  sample: {"DATABASE_URL": true, "SUPABASE_SERVICE_KEY": false}
target:
  description: The database the URL names, as C(host:port/database) (empty when there is no postgres URL).
  returned: always
  type: str
  sample: 127.0.0.1:5432/app
ready:
  description: C(pg_isready) succeeded.
  returned: always
  type: bool
  sample: true
ready_message:
  description: C(pg_isready)'s message, or why the database was not tested (no URL, clients not installed).
  returned: always
  type: str
  sample: "127.0.0.1:5432 - accepting connections"
select_ok:
  description: C(SELECT 1) through C(psql) answered 1.
  returned: always
  type: bool
  sample: true
select_message:
  description: C(SELECT 1 answered 1), or C(psql)'s first error line with secrets replaced.
  returned: always
  type: str
  sample: SELECT 1 answered 1
answers:
  description: The database answers, RV(ready) and RV(select_ok) both true.
  returned: always
  type: bool
  sample: true
"""

from urllib.parse import parse_qs, unquote, urlsplit

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.runbook.ops.plugins.module_utils.runbook_command import TIMED_OUT, bounded
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


def run(module, argv, env, timeout):
    """(rc, message) of a client program; arguments carry no secret, the connection is in env.

    With coreutils' timeout on the host the program is stopped after timeout + 5 seconds.
    """
    limited = bounded(module, argv, timeout + 5)
    rc, out, err = module.run_command(limited, environ_update=env)
    if limited != argv and rc in TIMED_OUT:
        return rc, "no answer within %d s" % (timeout + 5)
    return rc, (err or out)


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
    programs = {prog: module.get_bin_path(prog) for prog in ("pg_isready", "psql")}
    missing = [prog for prog, found in programs.items() if not found]
    if missing:
        result["ready_message"] = "%s not installed (apt-get install postgresql-client)" % " and ".join(missing)
        module.exit_json(**result)
    env = dict(conn, PGCONNECT_TIMEOUT=str(params["timeout"]))
    timeout = params["timeout"]
    rc, message = run(module, [programs["pg_isready"], "-t", str(timeout)], env, timeout)
    result["ready"] = rc == 0
    result["ready_message"] = scrub(message, secrets)
    rc, message = run(module, [programs["psql"], "-X", "-w", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1", "-c", "SELECT 1"],
                      env, timeout)
    result["select_ok"] = rc == 0 and message.strip() == "1"
    result["select_message"] = "SELECT 1 answered 1" if result["select_ok"] else scrub(message, secrets)
    result["answers"] = result["ready"] and result["select_ok"]
    module.exit_json(**result)


if __name__ == "__main__":
    main()
