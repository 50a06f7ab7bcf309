#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Which compose services read the payments switch, and what their containers run with.

A service reads the switch when its env_file is the app's .env or its
environment sets the switch (interpolated from .env). For each such service the
module reads the switch's value in the environment its running containers were
started with (a container keeps the environment it was created with until it is
recreated), and names the services whose containers run with another value
than the wanted one. Only the switch's value leaves the module, and only when
it is a plain word: never another variable. Read-only.
"""

from __future__ import annotations

DOCUMENTATION = r"""
module: payments_switch_services
short_description: Name the compose services that read the payments switch, and those running with a stale value
version_added: 0.2.0
author: runbook maintainers (!UNKNOWN)
description:
  - A compose service reads the payments switch when its C(env_file) is the app's env file O(env_file), or
    when its C(environment) sets O(switch) or interpolates it. The compose file is read uninterpolated
    (C(docker compose config --no-interpolate)), so no value of the env file is inlined.
  - For each such service, reads the switch's value in the environment its running containers were started
    with (C(docker inspect)); a container keeps that environment until it is recreated. Names the services
    whose containers run with another value than O(wanted).
  - Only the switch's value leaves the module, and only when it is a plain word, never another variable.
  - The module only reads, and never reports a change.
requirements:
  - The C(docker) CLI with the compose plugin on the host.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - runbook.ops.read_only
attributes:
  platform:
    platforms: posix
options:
  project_dir:
    description: The directory of the app's compose file.
    type: path
    required: true
  env_file:
    description: The app's env file (C(.env)).
    type: path
    required: true
  switch:
    description: The variable that turns payments on and off.
    type: str
    default: ENABLE_STRIPE_PAYMENTS
  wanted:
    description:
      - The value every running container must hold, such as C(true) or C(false) (compared in lower case).
      - Empty only reports what the containers hold, and RV(stale) stays empty.
    type: str
    default: ''
"""

EXAMPLES = r"""
- name: Find every service that reads the payments switch, and what its containers run with
  runbook.ops.payments_switch_services:
    project_dir: /srv/app
    env_file: /srv/app/.env
    switch: ENABLE_STRIPE_PAYMENTS
    wanted: "false"
  register: payments_switch_readers
  check_mode: false

- name: Name the services that still run with the old value
  ansible.builtin.debug:
    msg: "Recreate {{ payments_switch_readers.stale | join(', ') }}: they still run with the old value."
  when: payments_switch_readers.stale | length > 0
"""

RETURN = r"""
services:
  description: The compose services that read the switch, sorted.
  returned: always
  type: list
  elements: str
  sample: [api, worker]
running:
  description: Per reading service with running containers, the switch values they hold (C((unset)) or C((other)) for a non-word).
  returned: always
  type: dict
  sample: {"api": ["false"], "worker": ["true"]}
stale:
  description: The reading services with a running container that holds another value than O(wanted) (empty when O(wanted) is empty).
  returned: always
  type: list
  elements: str
  sample: [worker]
not_running:
  description: The reading services without a running container.
  returned: always
  type: list
  elements: str
  sample: [cron]
"""

import json
import os
import re

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.runbook.ops.plugins.module_utils.runbook_command import bounded

DOCKER_TIMEOUT = 60
SWITCH_WORDS = ("true", "false", "yes", "no", "1", "0", "on", "off", "")


def env_file_paths(service: dict, project_dir: str) -> list:
    """The service's env files as real paths (compose gives strings or {path: ...})."""
    files = service.get("env_file") or []
    if isinstance(files, (str, dict)):
        files = [files]
    paths = []
    for item in files:
        path = item.get("path", "") if isinstance(item, dict) else str(item)
        if path:
            paths.append(os.path.realpath(os.path.join(project_dir, path)))
    return paths


def environment_items(service: dict) -> dict:
    """A service's `environment` as {NAME: value} (compose gives a mapping or a list of NAME=value)."""
    environment = service.get("environment") or {}
    if isinstance(environment, dict):
        return {str(name): "" if value is None else str(value) for name, value in environment.items()}
    return dict((str(item).split("=", 1) + [""])[:2] for item in environment)


def sets_switch(service: dict, switch: str) -> bool:
    """True when the service's environment sets the switch or interpolates it ($SWITCH, ${SWITCH...})."""
    reference = re.compile(r"\$(\{)?%s\b" % re.escape(switch))
    return any(name == switch or reference.search(value) for name, value in environment_items(service).items())


def reading_services(config: dict, project_dir: str, env_file: str, switch: str) -> list:
    """Names of the services whose env_file is env_file or whose environment carries the switch."""
    env_file = os.path.realpath(env_file)
    names = []
    for name, service in sorted((config.get("services") or {}).items()):
        if env_file in env_file_paths(service, project_dir) or sets_switch(service, switch):
            names.append(name)
    return names


def parse_ps(text: str) -> list:
    """`docker compose ps --format json`: one object per line (compose >= 2.21) or one array."""
    text = text.strip()
    if not text:
        return []
    if text.startswith("["):
        return json.loads(text)
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def switch_value(env: list, switch: str) -> str:
    """The switch's value in a container's Config.Env, '(unset)' or '(other)' for a non-word."""
    for item in env or []:
        name, dummy, value = str(item).partition("=")
        if name == switch:
            value = value.strip().lower()
            return value if value in SWITCH_WORDS else "(other)"
    return "(unset)"


def summarise(services: list, containers: list, values: dict, wanted: str) -> dict:
    """Per reading service: the values its running containers hold; which are stale or not running."""
    running = {}
    for container in containers:
        service = container.get("Service", "")
        if service in services and container.get("State") == "running":
            running.setdefault(service, []).append(values.get(container.get("ID", ""), "(unset)"))
    stale = sorted(name for name, held in running.items() if wanted and any(v != wanted for v in held))
    return {
        "services": services,
        "running": {name: sorted(set(held)) for name, held in running.items()},
        "stale": stale,
        "not_running": sorted(name for name in services if name not in running),
    }


def docker(module, docker_bin: str, args: list, what: str, cwd: str | None = None) -> str:
    """The output of one docker command; the task fails with the command's last error line when it fails."""
    rc, out, err = module.run_command(bounded(module, [docker_bin] + args, DOCKER_TIMEOUT), cwd=cwd,
                                      ignore_invalid_cwd=False)
    if rc != 0:
        last = err.strip().splitlines()[-1:] or [""]
        module.fail_json(msg="%s failed (rc %d): %s" % (what, rc, last[0]))
    return out


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "project_dir": {"type": "path", "required": True},
            "env_file": {"type": "path", "required": True},
            "switch": {"type": "str", "default": "ENABLE_STRIPE_PAYMENTS"},
            "wanted": {"type": "str", "default": ""},
        },
        supports_check_mode=True,
    )
    params = module.params
    project_dir = params["project_dir"]
    docker_bin = module.get_bin_path("docker", required=True)
    # Not interpolated: env_file stays a reference (compose would otherwise inline the
    # file's values, secrets included) and ${VAR} stays as written.
    out = docker(module, docker_bin, ["compose", "config", "--no-interpolate", "--format", "json"],
                 "docker compose config in %s" % project_dir, cwd=project_dir)
    try:
        config = json.loads(out)
    except ValueError:
        module.fail_json(msg="docker compose config in %s did not print JSON" % project_dir)
    services = reading_services(config, project_dir, params["env_file"], params["switch"])
    out = docker(module, docker_bin, ["compose", "ps", "--all", "--format", "json"],
                 "docker compose ps in %s" % project_dir, cwd=project_dir)
    containers = parse_ps(out)
    values = {}
    ids = [c.get("ID", "") for c in containers if c.get("Service") in services and c.get("ID")]
    if ids:
        out = docker(module, docker_bin, ["inspect", "--format", "{{.Id}} {{json .Config.Env}}"] + ids,
                     "docker inspect of the services' containers")
        for line in out.splitlines():
            full_id, dummy, env = line.partition(" ")
            value = switch_value(json.loads(env or "[]"), params["switch"])
            for short in ids:
                if full_id.startswith(short):
                    values[short] = value
    wanted = params["wanted"].strip().lower()
    module.exit_json(changed=False, **summarise(services, containers, values, wanted))


if __name__ == "__main__":
    main()
