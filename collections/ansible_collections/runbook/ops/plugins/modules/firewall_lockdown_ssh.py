#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Which TCP ports does SSH use on this host? Read-only.

Every source is read, and the ports are their union (a port too many only
makes the lockdown refuse more, a port too few locks the operator out):

- sshd's effective config (`sshd -T`): its `listenaddress` lines, which carry
  the ports sshd really binds (`ListenAddress 0.0.0.0:2222` while `port 22` is
  still printed); the `port` lines only when no listenaddress is printed;
- socket activation: `ssh.socket`'s `Listen=` lines when the socket is active
  or enabled;
- the sockets an sshd process listens on now (`ss -tlnp`);
- the port of this very connection: the server side of `$SSH_CONNECTION`, and
  `connection_port` (the inventory's `ansible_port` over SSH).

When sshd is installed but its effective config cannot be read (`sshd -T`
fails: a broken config or include), `error` says so and the caller refuses
to lock down: the ports cannot be established.
"""

from __future__ import annotations

DOCUMENTATION = r"""
module: firewall_lockdown_ssh
short_description: Name the TCP ports SSH uses on the host (sshd -T, ssh.socket, listeners, this connection)
version_added: 0.2.0
author: runbook maintainers (!UNKNOWN)
description:
  - Reads every source of the host's SSH ports and returns their union. A port too many only makes the
    firewall lockdown refuse more; a port too few locks the operator out.
  - The sources are sshd's effective configuration (C(sshd -T), its C(listenaddress) lines, else its
    C(port) lines), C(ssh.socket)'s C(Listen=) lines when socket activation is active or enabled, the
    sockets an sshd process listens on now (C(ss -Htlnp)), and the server side of C($SSH_CONNECTION)
    together with O(connection_port).
  - When sshd is installed but C(sshd -T) fails (a broken configuration or include), RV(error) says so
    and the caller must refuse to lock down, since the ports cannot be established.
  - The module only reads, and never reports a change. Run it as root, as C(sshd -T) needs.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - runbook.ops.read_only
attributes:
  platform:
    platforms: linux
options:
  connection_port:
    description:
      - The port this connection reached (the inventory's C(ansible_port) over SSH).
      - Added to the ports found, since the server side of C($SSH_CONNECTION) may be missing (C(become), a jump host).
    type: int
    required: false
"""

EXAMPLES = r"""
- name: Find every port SSH uses before the lockdown
  runbook.ops.firewall_lockdown_ssh:
    connection_port: "{{ ansible_port | default(22) }}"
  register: firewall_lockdown_ssh
  check_mode: false

- name: Refuse to lock down when sshd's configuration cannot be read
  ansible.builtin.fail:
    msg: "{{ firewall_lockdown_ssh.error }}"
  when: firewall_lockdown_ssh.error | length > 0
"""

RETURN = r"""
ports:
  description: Every TCP port SSH uses, sorted (the union of RV(sources)).
  returned: always
  type: list
  elements: int
  sample: [22, 2222]
sources:
  description:
    - The ports each source gave, by source name (C(sshd -T), C(ssh.socket), C(listening sshd), C(this connection)).
    - A source that could not be read is absent.
  returned: always
  type: dict
  sample: {"sshd -T": [2222], "ssh.socket": [], "listening sshd": [2222], "this connection": [2222]}
sshd_installed:
  description: An C(sshd) binary was found on the host.
  returned: always
  type: bool
  sample: true
error:
  description: Why sshd's effective configuration could not be read (empty when it was, or sshd is not installed).
  returned: always
  type: str
  sample: ""
"""

import os
import re

from ansible.module_utils.basic import AnsibleModule

_LISTENADDRESS = re.compile(r"^listenaddress\s+(\S+)\s*$", re.MULTILINE)
_PORT = re.compile(r"^port\s+([0-9]+)\s*$", re.MULTILINE)
_LISTEN = re.compile(r"^Listen=(\S+)\s+\(Stream\)\s*$", re.MULTILINE)


def port_of(address):
    """The port of `0.0.0.0:2222`, `[::]:2222`, `*:22` or a bare `22`; None when there is none."""
    tail = address.rsplit(":", 1)[-1] if ":" in address else address
    if not tail.isdigit():
        return None
    port = int(tail)
    return port if 0 < port < 65536 else None


def sshd_ports(text):
    """Ports of `sshd -T`'s output: its listenaddress lines, else its port lines."""
    listening = [port_of(address) for address in _LISTENADDRESS.findall(text)]
    ports = [port for port in listening if port]
    if ports:
        return sorted(set(ports))
    return sorted({int(port) for port in _PORT.findall(text) if 0 < int(port) < 65536})


def socket_ports(text):
    """Stream ports of `systemctl show ssh.socket -p Listen -p ActiveState -p UnitFileState`, when in use."""
    fields = dict(line.split("=", 1) for line in text.splitlines() if "=" in line and not line.startswith("Listen="))
    if fields.get("ActiveState") != "active" and fields.get("UnitFileState") not in ("enabled", "enabled-runtime"):
        return []
    return sorted({port for port in map(port_of, _LISTEN.findall(text)) if port})


def listener_ports(text):
    """Ports of `ss -Htlnp` lines whose process is sshd."""
    ports = set()
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 4 and '(("sshd",' in line:
            port = port_of(parts[3])
            if port:
                ports.add(port)
    return sorted(ports)


def connection_ports(ssh_connection, given):
    """The server side of `$SSH_CONNECTION` (client ip, client port, server ip, server port) and the given port."""
    ports = set()
    parts = (ssh_connection or "").split()
    if len(parts) == 4 and parts[3].isdigit():
        ports.add(int(parts[3]))
    if given:
        ports.add(int(given))
    return sorted(port for port in ports if 0 < port < 65536)


def first_line(text):
    lines = (text or "").strip().splitlines()
    return lines[0][:200] if lines else "no message"


def main():
    module = AnsibleModule(argument_spec={"connection_port": {"type": "int", "required": False}},
                           supports_check_mode=True)
    sources = {}
    error = ""
    sshd = module.get_bin_path("sshd", opt_dirs=["/usr/sbin", "/sbin"])
    if sshd:
        rc, out, err = module.run_command([sshd, "-T"])
        if rc != 0:
            error = "sshd -T failed (exit %d): %s" % (rc, first_line(err or out))
        else:
            sources["sshd -T"] = sshd_ports(out)
    systemctl = module.get_bin_path("systemctl")
    if systemctl:
        rc, out, dummy = module.run_command([systemctl, "show", "ssh.socket", "-p", "Listen", "-p", "ActiveState",
                                             "-p", "UnitFileState"])
        if rc == 0:
            sources["ssh.socket"] = socket_ports(out)
    ss = module.get_bin_path("ss", opt_dirs=["/usr/sbin", "/sbin", "/usr/bin", "/bin"])
    if ss:
        rc, out, dummy = module.run_command([ss, "-Htlnp"])
        if rc == 0:
            sources["listening sshd"] = listener_ports(out)
    sources["this connection"] = connection_ports(os.environ.get("SSH_CONNECTION"), module.params["connection_port"])
    ports = sorted({port for found in sources.values() for port in found})
    module.exit_json(changed=False, ports=ports, sources=sources, sshd_installed=bool(sshd), error=error)


if __name__ == "__main__":
    main()
