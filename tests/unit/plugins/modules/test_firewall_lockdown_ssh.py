# SPDX-License-Identifier: GPL-3.0-or-later
"""The firewall_lockdown role's module (firewall_lockdown_ssh): the SSH ports
come from sshd's listen addresses (not its `port` line alone), ssh.socket when
it is in use, the listening sshd and this very connection. The host-side run
is in molecule (security, security_inactive)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ansible_collections.runbook.ops.plugins.modules import firewall_lockdown_ssh

ROLE = Path(__file__).resolve().parents[4] / "roles" / "firewall_lockdown"
ssh = firewall_lockdown_ssh

# sshd -T with `ListenAddress 0.0.0.0:2222` and `ListenAddress [::]:2222`: it still prints `port 22`.
SSHD_LISTENADDRESS = "port 22\naddressfamily any\nlistenaddress [::]:2222\nlistenaddress 0.0.0.0:2222\nusepam yes\n"


@pytest.mark.parametrize(
    ("text", "ports"),
    [
        (SSHD_LISTENADDRESS, [2222]),
        ("port 22\nlistenaddress [::]:22\nlistenaddress 0.0.0.0:22\n", [22]),
        ("port 22\nport 2200\nlistenaddress 0.0.0.0:22\nlistenaddress 0.0.0.0:2200\n", [22, 2200]),
        ("port 2222\n", [2222]),  # no listenaddress printed: the port lines
        ("", []),
    ],
)
def test_sshd_ports_follow_the_listen_addresses(text: str, ports: list[int]) -> None:
    assert ssh.sshd_ports(text) == ports


@pytest.mark.parametrize(
    ("text", "ports"),
    [
        ("Listen=[::]:22 (Stream)\nActiveState=active\nUnitFileState=enabled\n", [22]),
        ("Listen=0.0.0.0:2022 (Stream)\nListen=[::]:2022 (Stream)\nActiveState=inactive\nUnitFileState=enabled\n", [2022]),
        ("Listen=2200 (Stream)\nActiveState=active\nUnitFileState=disabled\n", [2200]),
        # Debian's default: the socket exists but is not used; sshd.service listens itself.
        ("Listen=[::]:22 (Stream)\nActiveState=inactive\nUnitFileState=disabled\n", []),
        ("Listen=/run/x.sock (Stream)\nActiveState=active\n", []),
    ],
)
def test_socket_ports_only_when_the_socket_is_in_use(text: str, ports: list[int]) -> None:
    assert ssh.socket_ports(text) == ports


def test_listener_ports_are_the_sshd_processes_only() -> None:
    text = ('LISTEN 0 128 0.0.0.0:2222 0.0.0.0:* users:(("sshd",pid=82,fd=6))\n'
            'LISTEN 0 128 [::]:2222 [::]:* users:(("sshd",pid=82,fd=7))\n'
            'LISTEN 0 511 0.0.0.0:80 0.0.0.0:* users:(("nginx",pid=609,fd=5))\n'
            'LISTEN 0 5 0.0.0.0:9100 0.0.0.0:* users:(("python3",pid=874,fd=3))\n')
    assert ssh.listener_ports(text) == [2222]


@pytest.mark.parametrize(
    ("env", "given", "ports"),
    [
        ("10.0.0.5 51234 192.0.2.10 2222", None, [2222]),
        ("fe80::1 51234 fe80::2 22", 2200, [22, 2200]),
        (None, None, []),
        ("garbage", 0, []),
    ],
)
def test_this_connections_port(env: str | None, given: int | None, ports: list[int]) -> None:
    assert ssh.connection_ports(env, given) == ports


@pytest.mark.parametrize(("address", "port"), [("0.0.0.0:22", 22), ("[::]:2222", 2222), ("22", 22),
                                              ("*:22", 22), ("[::]:0", None), ("/run/sshd.sock", None)])
def test_port_of(address: str, port: int | None) -> None:
    assert ssh.port_of(address) == port
