#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Which processes listen on a TCP port of the host, read from /proc.

certbot's standalone authenticator needs port 80; the fallback frees it by
stopping nginx. Before that, this module says who holds the port: nginx (the
stop frees it), nobody, or another process (stopping nginx would not free it,
only cost the outage). Read-only.
"""

from __future__ import annotations

DOCUMENTATION = r"""
module: certbot_renew_port
short_description: Name the processes that listen on a TCP port, and whether they are all the web server
version_added: 0.2.0
author: runbook maintainers (!UNKNOWN)
description:
  - Reads C(/proc/net/tcp), C(/proc/net/tcp6) and each process's open sockets to name the processes
    that listen on O(port), with their systemd unit.
  - certbot's standalone authenticator needs port 80, and the fallback frees it by stopping the web
    server. This module says beforehand who holds the port. The web server (stopping it frees the port),
    nobody, or another process (stopping the web server would not free it, only cost the outage).
  - The module only reads, and never reports a change. Run it as root to see other users' processes.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - runbook.ops.read_only
attributes:
  platform:
    platforms: linux
    details: Reads C(/proc).
options:
  port:
    description: The TCP port.
    type: int
    required: true
  service_name:
    description:
      - The web server's process name (C(comm)) and systemd unit stem.
      - A process counts as the web server when its name is this or its unit is this plus C(.service).
    type: str
    default: nginx
"""

EXAMPLES = r"""
- name: Name who listens on port 80 before stopping nginx for certbot
  runbook.ops.certbot_renew_port:
    port: 80
    service_name: nginx
  register: certbot_renew_port80
  check_mode: false

- name: Stop when something other than nginx holds port 80 (stopping nginx would not free it)
  ansible.builtin.fail:
    msg: "Port 80 is held by {{ certbot_renew_port80.others_text }}: stopping nginx would not free it."
  when: certbot_renew_port80.others | length > 0
"""

RETURN = r"""
holders:
  description: The processes that have a listening socket on the port, by pid.
  returned: always
  type: list
  elements: dict
  sample: [{"pid": 812, "name": "nginx", "unit": "nginx.service"}]
  contains:
    pid:
      description: The process id.
      type: int
      returned: always
    name:
      description: The process name (C(/proc/PID/comm)).
      type: str
      returned: always
    unit:
      description: The systemd unit the process runs in (empty when none).
      type: str
      returned: always
others:
  description: The holders that are not the web server, in the same shape as RV(holders).
  returned: always
  type: list
  elements: dict
  sample: []
free:
  description: True when nothing listens on the port.
  returned: always
  type: bool
  sample: false
others_text:
  description: The other holders as one line for a message, such as C(apache2 (pid 901, apache2.service)).
  returned: always
  type: str
  sample: ""
"""

import os

from ansible.module_utils.basic import AnsibleModule

LISTEN = "0A"


def listening_inodes(table: str, port: int) -> set:
    """Socket inodes of /proc/net/tcp{,6} lines in LISTEN state on the port."""
    inodes = set()
    for line in table.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 10 or fields[3] != LISTEN:
            continue
        local_port = int(fields[1].rsplit(":", 1)[1], 16)
        if local_port == port:
            inodes.add(fields[9])
    return inodes


def unit_of(cgroup: str) -> str:
    """The systemd unit (last *.service/*.scope path part) of a /proc/PID/cgroup text, else ''."""
    for line in cgroup.splitlines():
        for part in reversed(line.rsplit(":", 1)[-1].split("/")):
            if part.endswith((".service", ".scope")):
                return part
    return ""


def is_web_server(holder: dict, name: str) -> bool:
    return holder["name"] == name or holder["unit"] == name + ".service"


def read(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return fh.read()
    except OSError:
        return ""


def holders(port: int, proc: str = "/proc") -> list:
    """[{pid, name, unit}] of the processes that have a listening socket on the port."""
    inodes = set()
    for table in ("tcp", "tcp6"):
        inodes |= listening_inodes(read(os.path.join(proc, "net", table)), port)
    found = []
    if not inodes:
        return found
    for pid in filter(str.isdigit, os.listdir(proc)):
        fd_dir = os.path.join(proc, pid, "fd")
        try:
            links = [os.readlink(os.path.join(fd_dir, fd)) for fd in os.listdir(fd_dir)]
        except OSError:
            continue
        if any(link.startswith("socket:[") and link[8:-1] in inodes for link in links):
            found.append({"pid": int(pid), "name": read(os.path.join(proc, pid, "comm")).strip(),
                          "unit": unit_of(read(os.path.join(proc, pid, "cgroup")))})
    return sorted(found, key=lambda holder: holder["pid"])


def main() -> None:
    module = AnsibleModule(
        argument_spec={"port": {"type": "int", "required": True},
                       "service_name": {"type": "str", "default": "nginx"}},
        supports_check_mode=True,
    )
    found = holders(module.params["port"])
    others = [h for h in found if not is_web_server(h, module.params["service_name"])]
    module.exit_json(changed=False, holders=found, others=others, free=not found,
                     others_text=", ".join("%s (pid %d%s)" % (h["name"], h["pid"], ", " + h["unit"] if h["unit"] else "")
                                           for h in others))


if __name__ == "__main__":
    main()
