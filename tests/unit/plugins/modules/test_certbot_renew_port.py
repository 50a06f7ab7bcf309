# SPDX-License-Identifier: GPL-3.0-or-later
"""certbot_renew_port: who listens on port 80, read from a /proc tree (a fake one here, laid out
as the kernel does): nginx (stopping it frees the port), nobody, or another process."""

from __future__ import annotations

import os
from pathlib import Path

from ansible_collections.runbook.ops.plugins.modules import certbot_renew_port

ROOT = Path(__file__).resolve().parents[4]
port = certbot_renew_port

HEADER = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"


def row(local: str, state: str, inode: int) -> str:
    return f"   0: {local} 00000000:0000 {state} 00000000:00000000 00:00000000 00000000     0        0 {inode} 1\n"


def fake_proc(tmp_path: Path, processes: dict[int, tuple[str, str, list[int]]], tcp: str, tcp6: str = "") -> Path:
    proc = tmp_path / "proc"
    (proc / "net").mkdir(parents=True)
    (proc / "net" / "tcp").write_text(HEADER + tcp)
    (proc / "net" / "tcp6").write_text(HEADER + tcp6)
    for pid, (comm, cgroup, inodes) in processes.items():
        (proc / str(pid) / "fd").mkdir(parents=True)
        (proc / str(pid) / "comm").write_text(comm + "\n")
        (proc / str(pid) / "cgroup").write_text(cgroup)
        for fd, inode in enumerate(inodes, start=3):
            os.symlink(f"socket:[{inode}]", proc / str(pid) / "fd" / str(fd))
        os.symlink("/dev/null", proc / str(pid) / "fd" / "0")
    return proc


def test_nginx_master_and_workers_hold_port_80(tmp_path: Path) -> None:
    proc = fake_proc(tmp_path, {
        100: ("nginx", "0::/system.slice/nginx.service\n", [501, 502]),
        101: ("nginx", "0::/system.slice/nginx.service\n", [501, 502]),
        200: ("python3", "0::/system.slice/api.scope\n", [777]),
    }, row("00000000:0050", "0A", 501) + row("0100007F:0BB8", "0A", 777) + row("0100007F:0050", "01", 999),
        row("00000000000000000000000000000000:0050", "0A", 502))
    found = port.holders(80, str(proc))
    assert [h["pid"] for h in found] == [100, 101]
    assert all(port.is_web_server(h, "nginx") for h in found)
    assert found[0]["unit"] == "nginx.service"


def test_another_process_on_port_80_is_named(tmp_path: Path) -> None:
    proc = fake_proc(tmp_path, {300: ("python3", "0::/user.slice/session-4.scope\n", [601])},
                     row("0100007F:0050", "0A", 601))
    found = port.holders(80, str(proc))
    assert found == [{"pid": 300, "name": "python3", "unit": "session-4.scope"}]
    assert not port.is_web_server(found[0], "nginx")


def test_a_free_port(tmp_path: Path) -> None:
    proc = fake_proc(tmp_path, {}, row("0100007F:0BB8", "0A", 777))
    assert port.holders(80, str(proc)) == []


def test_unit_of_reads_cgroup_v1_and_v2() -> None:
    assert port.unit_of("0::/system.slice/nginx.service\n") == "nginx.service"
    assert port.unit_of("12:pids:/system.slice/docker-abc.scope\n1:name=systemd:/init.scope\n") == "docker-abc.scope"
    assert port.unit_of("0::/\n") == ""
