# SPDX-License-Identifier: GPL-3.0-or-later
"""The diagnose role's module (runbook_diagnose) and filters (diagnose_report),
on outputs captured from a test host (Debian 13, Docker 26, compose 2.26,
systemd 257): parsing, the published shape, redaction and the text a person reads."""

from __future__ import annotations

import hashlib
import http.server
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from ansible_collections.runbook.ops.plugins.module_utils import runbook_docker_output as docker_output
from ansible_collections.runbook.ops.plugins.module_utils import runbook_endpoints as endpoints
from ansible_collections.runbook.ops.plugins.module_utils import runbook_host_guide as host_guide
from ansible_collections.runbook.ops.plugins.module_utils import runbook_ledger as ledger
from ansible_collections.runbook.ops.plugins.module_utils import runbook_log_lines as log_lines
from ansible_collections.runbook.ops.plugins.module_utils import runbook_processes as ps_parse
from ansible_collections.runbook.ops.plugins.module_utils import runbook_systemd as systemd
from ansible_collections.runbook.ops.plugins.module_utils import runbook_times as times
from ansible_collections.runbook.ops.plugins.module_utils import runbook_usage as usage
from ansible_collections.runbook.ops.plugins.module_utils import runbook_x509 as x509
from ansible_collections.runbook.ops.plugins.module_utils.runbook_command import Commands
from ansible_collections.runbook.ops.plugins.filter import diagnose_report
from ansible_collections.runbook.ops.plugins.modules import runbook_diagnose

ROLE = Path(__file__).resolve().parents[4] / "roles" / "diagnose"


probe = runbook_diagnose
report = diagnose_report

# df -P -k -T on a test host: its / is an overlay, Docker bind-mounts /etc/hosts,
# the containers' root file systems are overlays under /var/lib/docker.
DF = """\
Filesystem     Type    1024-blocks     Used Available Capacity Mounted on
overlay        overlay   264212084 28922156  77468756      28% /
tmpfs          tmpfs         65536        0     65536       0% /dev
shm            tmpfs         65536        0     65536       0% /dev/shm
tmpfs          tmpfs      12342044        0  12342044       0% /tmp
tmpfs          tmpfs      12342044      184  12341860       1% /run
/dev/vda       ext4      264212084 28922156  77468756      28% /etc/hosts
tmpfs          tmpfs      12342044        0  12342044       0% /run/lock
tmpfs          tmpfs          4096        0      4096       0% /sys/fs/cgroup
tmpfs          tmpfs      12342044        0  12342044       0% /proc/acpi
tmpfs          tmpfs      12342044        0  12342044       0% /sys/firmware
overlay        overlay   264212084 28922156  77468756      28% /var/lib/docker/overlay2/b329c2f05c75b0ffcd3e127f7e8827110f12cbec02e07680d73c69ea15254025/merged
overlay        overlay   264212084 28922156  77468756      28% /var/lib/docker/overlay2/cea18774b083b37518b17cd379b9e5df934b1dbdffc76c683b9b2c95832b21bc/merged
"""

MEMINFO = """\
MemTotal:       24684092 kB
MemFree:        18798856 kB
MemAvailable:   23120068 kB
Buffers:          121868 kB
Cached:          3982040 kB
SwapCached:            0 kB
Active:          1646880 kB
Inactive:        2965676 kB
SwapTotal:        2097148 kB
SwapFree:         1048572 kB
"""

PS = """\
      1 root                              0.3  0.0 14280 /lib/systemd/systemd
     34 root                              0.0  0.0 12456 /usr/lib/systemd/systemd-journald
     67 root                              0.0  0.0  2764 /usr/sbin/cron -f
     68 messagebus                        0.0  0.0  4388 /usr/bin/dbus-daemon --system --address=systemd: --nofork --nopidfile --systemd-activation --syslog-only
     83 root                              0.1  0.1 48184 /usr/bin/containerd
     86 root                              0.0  0.0  6044 nginx: master process /usr/sbin/nginx -g daemon on; master_process on;
     98 postgres                          0.0  0.1 30108 /usr/lib/postgresql/17/bin/postgres -D /var/lib/postgresql/17/main -c config_file=/etc/postgresql/17/main/postgresql.conf
    105 postgres                          0.0  0.0 10464 postgres: 17/main: walwriter 
    603 www-data                          0.0  0.0  3624 nginx: worker process
   1882 root                              1.2  0.3 86040 /usr/sbin/dockerd -H fd:// --containerd=/run/containerd/containerd.sock
   1969 root                              0.8  0.0 21096 python3 -u /app/app.py
   1971 root                              0.3  0.0 10396 python3 -u /app/worker.py
   2022 root                              0.0  0.0  3816 ps -eo pid=,user:32=,pcpu=,pmem=,rss=,args=
"""

SYSTEMCTL = """\
NRestarts=0
Id=docker.service
LoadState=loaded
ActiveState=active
SubState=running
StateChangeTimestamp=@1795953876
ActiveEnterTimestamp=@1795953876
InactiveEnterTimestamp=

NRestarts=2
Id=nginx.service
LoadState=loaded
ActiveState=failed
SubState=failed
StateChangeTimestamp=@1795953886
ActiveEnterTimestamp=@1795953876
InactiveEnterTimestamp=@1795953886

NRestarts=0
Id=nosuch.service
LoadState=not-found
ActiveState=inactive
SubState=dead
StateChangeTimestamp=
ActiveEnterTimestamp=
InactiveEnterTimestamp=
"""

# docker compose ps --all --format json (compose 2.26: one object a line), the worker stopped.
COMPOSE_PS = """\
{"Command":"\\"python3 -u /app/app…\\"","CreatedAt":"2026-11-29 12:04:47 +0000 UTC","ExitCode":0,"Health":"","ID":"0238abe3b81d","Image":"echoelmusic-api:latest","Name":"backend-api-1","Names":"backend-api-1","Project":"backend","Service":"api","State":"running","Status":"Up About a minute"}
{"Command":"\\"python3 -u /app/wor…\\"","CreatedAt":"2026-11-29 12:04:47 +0000 UTC","ExitCode":0,"Health":"","ID":"8cc4fc47423b","Image":"echoelmusic-worker:latest","Name":"backend-worker-1","Names":"backend-worker-1","Project":"backend","Service":"worker","State":"exited","Status":"Exited (0) Less than a second ago"}
"""

# docker inspect of both, the fields the module reads.
INSPECT = json.dumps([
    {"Id": "8cc4fc47423b563fcd49f865890135b83f4793198bc2729037f0c5213e7cc29d", "Created": "2026-11-29T12:04:47.127252845Z",
     "Name": "/backend-worker-1", "RestartCount": 0,
     "State": {"Status": "exited", "Running": False, "Paused": False, "Restarting": False, "OOMKilled": False,
               "Dead": False, "Pid": 0, "ExitCode": 137, "Error": "", "StartedAt": "2026-11-29T12:07:54.345521156Z",
               "FinishedAt": "2026-11-29T12:08:00.594243924Z"},
     "Config": {"Labels": {"com.docker.compose.project": "backend", "com.docker.compose.service": "worker"}}},
    {"Id": "0238abe3b81dcd341dbb636c6976e278be7aaa154ea8a84c08c2f2a47e024ae5", "Created": "2026-11-29T12:04:47.128516116Z",
     "Name": "/backend-api-1", "RestartCount": 3,
     "State": {"Status": "running", "Running": True, "Paused": False, "Restarting": False, "OOMKilled": False,
               "Dead": False, "Pid": 1969, "ExitCode": 0, "Error": "", "StartedAt": "2026-11-29T12:07:54.384907436Z",
               "FinishedAt": "2026-11-29T12:07:52.592519158Z", "Health": {"Status": "healthy"}},
     "Config": {"Labels": {"com.docker.compose.project": "backend", "com.docker.compose.service": "api"}}},
])

# docker logs --timestamps of the api: stdout, then stderr (the planted lines
# carry real ESC sequences and the printed form \x1b[2K, as `docker compose logs` writes it).
LOG_OUT = (
    "2026-11-29T12:04:47.383958577Z api v4 starting on port 3000 (payments on)\n"
    "2026-11-29T12:05:39.351079547Z \x1b[31mERROR\x1b[0m payment failed STRIPE_SECRET_KEY=sk_live_PLANTEDdiag0123456789"
    " \\x1b[2Kretrying\n"
    "2026-11-29T12:07:23.1Z 127.0.0.1 \"GET /health HTTP/1.1\" 200 -\n"
)
LOG_ERR = "2026-11-29T12:05:39.35111Z Traceback (most recent call last): boom\n"

NGINX_ERRORS = """\
2026/11/29 12:09:58 [notice] 86#86: signal process started
2026/11/29 12:10:01 [error] 86#86: *3 connect() failed (111: Connection refused) while connecting to upstream, client: 127.0.0.1, server: api.echoelmusic.com, request: "GET /health?token=abc123secret HTTP/1.1", upstream: "http://127.0.0.1:3000/health"
2026/11/29 12:10:05 [warn] 86#86: *4 an upstream response is buffered to a temporary file
"""


def test_disk_keeps_the_root_overlay_and_leaves_pseudo_and_container_file_systems_out():
    rows = usage.parse_df(DF)
    assert [row["mount"] for row in rows] == ["/", "/etc/hosts"]  # the module then drops mounts that are files
    assert {key: rows[0][key] for key in ("size", "used", "avail", "use_pct")} == {
        "size": "252G", "used": "28G", "avail": "74G", "use_pct": 28}


@pytest.mark.parametrize("kib, shown", [(512, "512K"), (2048, "2.0M"), (10_137, "9.9M"), (264_212_084, "252G"),
                                        (28_922_156, "28G"), (9_437_185, "9.1G"), (1024 ** 3 * 3, "3.0T")])
def test_sizes_read_as_df_h_shows_them(kib, shown):
    assert usage.human_size(kib) == shown


def test_memory_as_free_computes_it():
    assert usage.parse_meminfo(MEMINFO) == {"total_mb": 24105, "used_mb": 1527, "available_mb": 22578,
                                            "swap_total_mb": 2047, "swap_used_mb": 1024}


def test_one_ps_call_gives_both_top_lists_without_the_probe_itself():
    processes = ps_parse.parse_ps(PS, skip={2022})
    assert len(processes) == 12
    by_cpu = ps_parse.top(processes, "cpu", 3)
    by_mem = ps_parse.top(processes, "mem", 3)
    assert [p["pid"] for p in by_cpu] == [1882, 1969, 1]
    assert [p["pid"] for p in by_mem] == [1882, 83, 98]  # equal %MEM: the larger resident set first
    assert by_cpu[0] == {"pid": 1882, "user": "root", "cpu": 1.2, "mem": 0.3, "rss_kb": 86040,
                         "command": "/usr/sbin/dockerd -H fd:// --containerd=/run/containerd/containerd.sock"}
    commands = {p["pid"]: p["command"] for p in processes}
    assert len(commands[68]) == ps_parse.COMMAND_WIDTH and commands[68].startswith("/usr/bin/dbus-daemon --system")
    assert commands[68].endswith("...")  # cut to the width of a terminal line
    assert commands[105] == "postgres: 17/main: walwriter"  # ps pads it with a blank


def test_units_with_state_since_and_restarts():
    units = systemd.parse_systemctl_show(SYSTEMCTL, ["docker", "nginx", "nosuch"])
    assert [(u["name"], u["state"], u["since"], u["restarts"]) for u in units] == [
        ("docker", "active", "2026-11-29T12:04:36Z", 0),
        ("nginx", "failed", "2026-11-29T12:04:46Z", 2),  # since it failed, as systemctl status says
        ("nosuch", "not-found", "", 0),
    ]


def test_compose_ps_in_both_formats():
    lines = docker_output.parse_compose_ps(COMPOSE_PS)
    assert [(c["id"], c["service"]) for c in lines] == [("0238abe3b81d", "api"), ("8cc4fc47423b", "worker")]
    as_array = "[" + ",".join(COMPOSE_PS.strip().splitlines()) + "]"  # compose before 2.21
    assert docker_output.parse_compose_ps(as_array) == lines
    assert docker_output.parse_compose_ps("") == []


def test_containers_with_state_since_restarts_and_health():
    rows = docker_output.parse_inspect(INSPECT)
    assert [(r["name"], r["service"], r["state"], r["since"], r["restarts"], r["health"], r["exit_code"]) for r in rows] == [
        ("backend-api-1", "api", "running", "2026-11-29T12:07:54Z", 3, "healthy", 0),
        ("backend-worker-1", "worker", "exited", "2026-11-29T12:08:00Z", 0, "none", 137),  # since it stopped
    ]


def test_error_lines_merged_in_time_order_ansi_stripped():
    merged = sorted(LOG_OUT.splitlines() + LOG_ERR.splitlines(), key=log_lines.log_time)
    found = log_lines.error_lines(merged, log_lines.ERROR_PATTERN, 20)
    assert found == [
        "2026-11-29T12:05:39Z ERROR payment failed STRIPE_SECRET_KEY=sk_live_PLANTEDdiag0123456789 retrying",
        "2026-11-29T12:05:39Z Traceback (most recent call last): boom",
    ]
    assert log_lines.error_lines(merged, log_lines.ERROR_PATTERN, 1) == found[-1:]
    assert log_lines.error_lines(LOG_OUT.splitlines()[:1], log_lines.ERROR_PATTERN, 20) == []


def test_nginx_error_levels_are_error_lines_and_notices_are_not():
    found = log_lines.error_lines(NGINX_ERRORS.splitlines(), log_lines.ERROR_PATTERN, 20)
    assert len(found) == 1 and "[error]" in found[0]
    assert log_lines.error_lines(["2026/11/29 12:10:01 [emerg] 1#1: bind() failed"], log_lines.ERROR_PATTERN, 5)


@pytest.mark.parametrize("text", ["\x1b[2Kapi-1  | up", "\\x1b[2Kapi-1  | up", "\\u001b[31mapi-1  | up\\u001b[0m",
                                  "\\033[1mapi-1  | up", "\x1b]0;title\x07api-1  | up"])
def test_ansi_in_both_forms_is_stripped(text):
    assert log_lines.strip_ansi(text) == "api-1  | up"


def test_tail_file_reads_only_the_end(tmp_path):
    log = tmp_path / "error.log"
    log.write_text("".join("line %d\n" % n for n in range(5000)))
    assert log_lines.tail_file(str(log), 3, block=64) == ["line 4997", "line 4998", "line 4999"]
    assert log_lines.tail_file(str(log), 10000)[0] == "line 0"


def _found() -> dict:
    """What the module returns for the host above, redacted as the role does."""
    units = systemd.parse_systemctl_show(SYSTEMCTL, ["docker", "nginx"])
    processes = ps_parse.parse_ps(PS, skip={2022})
    merged = sorted(LOG_OUT.splitlines() + LOG_ERR.splitlines(), key=log_lines.log_time)
    raw = {
        "now": "2026-11-29T12:10:00Z", "now_epoch": 1795954200,
        "services": units, "containers": docker_output.parse_inspect(INSPECT), "disk": usage.parse_df(DF)[:1],
        "memory": usage.parse_meminfo(MEMINFO),
        "top_cpu": ps_parse.top(processes, "cpu", 5), "top_mem": ps_parse.top(processes, "mem", 5),
        "log_errors": {"api": log_lines.error_lines(merged, log_lines.ERROR_PATTERN, 20),
                       "nginx": log_lines.error_lines(NGINX_ERRORS.splitlines(), log_lines.ERROR_PATTERN, 20)},
        "log_sources": {"api": "last 500 log lines of backend-api-1",
                        "nginx": "last 500 lines of /var/log/nginx/error.log"},
        "log_unread": {}, "releases": [{"commit": "0123456789abcdef0123"}], "notes": [],
    }
    return report.diagnose_redact(raw)


def test_published_shape_is_exactly_the_reports():
    data = report.diagnose_data(_found())
    assert set(data) == {"containers", "services", "disk", "memory", "top_cpu", "top_mem", "log_errors"}
    assert data["containers"][0] == {"name": "backend-api-1", "state": "running", "since": "2026-11-29T12:07:54Z",
                                     "restarts": 3, "health": "healthy", "service": "api", "oom_killed": False}
    assert data["services"][1] == {"name": "nginx", "state": "failed", "since": "2026-11-29T12:04:46Z"}
    assert data["disk"] == [{"mount": "/", "size": "252G", "used": "28G", "avail": "74G", "use_pct": 28}]
    assert data["memory"] == {"total_mb": 24105, "used_mb": 1527, "available_mb": 22578, "swap_used_mb": 1024}
    assert {tuple(sorted(p)) for p in data["top_cpu"] + data["top_mem"]} == {("command", "cpu", "mem", "pid", "user")}
    assert set(data["log_errors"]) == {"api", "nginx"}
    json.dumps(data)  # plain data, as set_stats publishes it


def test_secrets_are_redacted_in_log_lines_and_commands():
    found = report.diagnose_redact({"log_errors": {"api": ["boot DATABASE_URL=postgresql://app:pa55word@db/app"]},
                                    "top_cpu": [{"pid": 9, "user": "root", "cpu": 9.9, "mem": 0.1,
                                                 "command": "worker --password=hunter2x"}],
                                    "notes": []})
    assert found["log_errors"]["api"] == ["boot DATABASE_URL=postgresql://app:********@db/app"]
    assert found["top_cpu"][0]["command"] == "worker --password=********"
    text = "\n".join(report.diagnose_lines(_found(), "h1"))
    assert "sk_live_PLANTED" not in text and "abc123secret" not in text
    assert "STRIPE_SECRET_KEY=********" in text and "token=********" in text
    assert "\\x1b" not in text and "\x1b" not in text


def test_the_diagnosis_reads_as_tables():
    lines = report.diagnose_lines(_found(), "h1", 1)
    assert lines[0] == "Diagnosis of h1 at 2026-11-29 12:10:00Z"
    table = lines[lines.index("Services and containers:") + 1:lines.index("Disk:")]
    assert [line.split()[0] for line in table] == ["NAME", "docker", "nginx", "backend-api-1", "backend-worker-1"]
    assert len({line.index("SINCE") if "SINCE" in line else line.index("2026-") for line in table}) == 1  # one column
    assert table[2].split()[:8] == ["nginx", "service", "failed", "2026-11-29", "12:04:46Z", "(5m", "ago)", "2"]
    assert table[1].split()[2:4] == ["active", "(running)"]
    assert "exited (137)" in table[4] and table[3].rstrip().endswith("healthy")
    assert "  /      252G  28G   74G    28%" in lines
    assert "Memory: 24105 MB total, 1527 MB used, 22578 MB available, swap 1024 MB used" in lines
    assert lines[lines.index("Top processes by memory:") + 2].split()[:2] == ["1882", "root"]
    errors = lines.index("Error lines of api: the last 1 of 2 found in the last 500 log lines of backend-api-1:")
    assert lines[errors + 1] == "  2026-11-29T12:05:39Z Traceback (most recent call last): boom"
    assert lines[-1] == "Releases that passed the health gate here, oldest first: 0123456789ab"


def test_no_error_lines_and_unread_logs_are_said():
    found = dict(_found(), log_errors={"api": [], "nginx": []},
                 log_unread={"api": "the Docker engine is not active"})
    lines = report.diagnose_lines(found, "h1")
    assert "Error lines of api: not read (the Docker engine is not active)" in lines
    assert "Error lines of nginx: none in the last 500 lines of /var/log/nginx/error.log" in lines


@pytest.mark.parametrize("seconds, shown", [(5, "5s"), (300, "5m"), (3 * 3600 + 5 * 60, "3h05m"), (2 * 86400 + 4 * 3600, "2d04h"),
                                            (-3, "0s")])
def test_ages(seconds, shown):
    assert report.age(seconds) == shown


# --- The rest of the guide (guide=true) -------------------------------------------------------------

# Outputs captured on a test host (Docker 26, systemd 257, ufw 0.36).
SYSTEM_DF = """\
{"Active":"2","Reclaimable":"115MB (100%)","Size":"115MB","TotalCount":"3","Type":"Images"}
{"Active":"1","Reclaimable":"0B","Size":"0B","TotalCount":"2","Type":"Containers"}
{"Active":"0","Reclaimable":"0B","Size":"0B","TotalCount":"0","Type":"Local Volumes"}
{"Active":"0","Reclaimable":"10.04kB","Size":"10.04kB","TotalCount":"10","Type":"Build Cache"}
"""
FAILED_UNITS = "diag-broken-probe.service loaded failed failed [systemd-run] /bin/false\n"
UFW_ADDED = """\
Added user rules (see 'ufw status' for running firewall):
ufw allow 22/tcp
ufw allow 80/tcp
ufw allow 443/tcp
"""


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> dict:
    """A real self-signed 30-day certificate and its key, made by openssl, with the serial and end openssl reads."""
    folder = tmp_path_factory.mktemp("cert")
    cert, key = folder / "cert.pem", folder / "privkey.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30", "-subj", "/CN=api.test",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    out = subprocess.run(["openssl", "x509", "-in", str(cert), "-noout", "-enddate", "-serial"], check=True,
                         capture_output=True, text=True).stdout
    end, serial = x509.parse_openssl_x509(out)
    return {"cert": cert, "key": key, "end": end, "serial": serial, "der": ssl.PEM_cert_to_DER_cert(cert.read_text())}


def test_openssl_x509_output_is_parsed():
    end, serial = x509.parse_openssl_x509("notAfter=Feb 27 15:00:29 2027 GMT\nserial=0A1B2C\n")
    assert (times.iso(end), serial) == ("2027-02-27T15:00:29Z", "A1B2C")


def test_certificate_read_by_cryptography_and_by_openssl_agree(certificate, monkeypatch):
    assert x509.certificate_facts(certificate["der"], Commands()) == (certificate["end"], certificate["serial"])
    monkeypatch.setitem(sys.modules, "cryptography", None)  # a host without python3-cryptography
    assert x509.certificate_facts(certificate["der"], Commands()) == (certificate["end"], certificate["serial"])
    monkeypatch.setattr(shutil, "which", lambda name, path=None: None)
    with pytest.raises(ValueError, match="neither python3-cryptography nor openssl"):
        x509.certificate_facts(certificate["der"], Commands())


def test_lineage_file_days_left_floor_and_expired(certificate, tmp_path):
    chain = tmp_path / "fullchain.pem"
    chain.write_text(certificate["cert"].read_text() * 2)  # the first certificate is the one read
    found = endpoints.read_certificate_file(str(chain), certificate["end"] - 29.5 * 86400, Commands())
    assert (found["found"], found["days_left"], found["serial"]) == (True, 29, certificate["serial"])
    assert endpoints.read_certificate_file(str(chain), certificate["end"] + 3600, Commands())["days_left"] == -1
    missing = endpoints.read_certificate_file(str(tmp_path / "none.pem"), 0, Commands())
    assert missing == {"path": str(tmp_path / "none.pem"), "found": False,
                       "error": "no certificate at %s" % (tmp_path / "none.pem")}
    (tmp_path / "empty.pem").write_text("not a certificate\n")
    assert endpoints.read_certificate_file(str(tmp_path / "empty.pem"), 0, Commands())["error"].startswith("no PEM certificate in ")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_served_certificate_read_with_sni_and_nothing_listening_said(certificate):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificate["cert"], certificate["key"])
    names = []
    context.sni_callback = lambda sock, name, ctx: names.append(name)
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        port = server.getsockname()[1]

        def serve() -> None:
            conn, _ = server.accept()
            with context.wrap_socket(conn, server_side=True):
                pass

        thread = threading.Thread(target=serve)
        thread.start()
        found = endpoints.read_served_certificate("127.0.0.1", port, "api.test", 3, certificate["end"] - 10 * 86400, Commands())
        thread.join(5)
    assert (found["found"], found["days_left"], found["serial"], names) == (True, 10, certificate["serial"], ["api.test"])
    closed = _free_port()
    assert endpoints.read_served_certificate("127.0.0.1", closed, "api.test", 1, 0, Commands()) == {
        "address": "127.0.0.1:%d" % closed, "found": False, "error": "nothing listens on 127.0.0.1:%d" % closed}


class _Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        self.send_response(200 if self.path == "/health" else 503)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


def test_health_urls_answer_their_status_and_a_dead_port_says_why():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Health)
    thread = threading.Thread(target=server.serve_forever)
    thread.start()
    try:
        base = "http://127.0.0.1:%d" % server.server_address[1]
        healthy = endpoints.read_health(base + "/health", 3, True)
        database = endpoints.read_health(base + "/api/health/db", 3, True)
    finally:
        server.shutdown()
        server.server_close()
    assert (healthy["status"], healthy["error"], database["status"]) == (200, "", 503)
    dead = endpoints.read_health("http://127.0.0.1:%d/health" % _free_port(), 2, True)
    assert dead["status"] is None and dead["error"].endswith(" connection refused"), dead
    assert endpoints.read_health("", 2, True) == {"url": "", "status": None, "elapsed": None, "error": "no URL given"}


def test_docker_disk_failed_units_and_ufw_outputs():
    rows = docker_output.parse_system_df(SYSTEM_DF)
    assert rows[0] == {"type": "Images", "count": 3, "active": 2, "size": "115MB", "reclaimable": "115MB (100%)"}
    assert [row["type"] for row in rows] == ["Images", "Containers", "Local Volumes", "Build Cache"]
    assert systemd.parse_failed_units(FAILED_UNITS) == ["diag-broken-probe.service"]
    assert systemd.parse_failed_units("") == []
    assert host_guide.parse_ufw_status("Status: active\n\nTo    Action  From\n") == "active"
    assert host_guide.parse_ufw_status("ERROR: You need to be root to run this script\n") == ""
    assert len(host_guide.parse_ufw_added(UFW_ADDED)) == 3
    assert host_guide.parse_ufw_added("Added user rules (see 'ufw status' for running firewall):\n(None)\n") == []
    assert host_guide.read_docker_disk(False, "docker", Commands()) == {"rows": [], "error": "the Docker engine (docker) is not active"}


def test_ufw_missing_is_unknown(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name, path=None: None)
    assert host_guide.read_ufw(Commands()) == {"state": "", "rules": None, "error": "ufw is not installed"}


def test_last_backup_is_the_newest_visible_file(tmp_path):
    backups = tmp_path / "backups"
    assert host_guide.read_backup(str(backups), 0) == {"dir": str(backups), "error": "no backup directory %s" % backups}
    backups.mkdir()
    (backups / ".db-x.dump.part").write_text("being written")
    assert host_guide.read_backup(str(backups), 0)["error"] == "no backup in %s" % backups
    for name, mtime in (("db-20261128T031500Z.dump", 1000), ("weekly/db-20261122T031500Z.dump", 2000),
                        ("db-20261129T031500Z.dump", 3000), (".db-y.dump.part", 9000)):
        (backups / name).parent.mkdir(exist_ok=True)
        (backups / name).write_text("dump")
        os.utime(backups / name, (mtime, mtime))
    found = host_guide.read_backup(str(backups), 3600)
    assert found == {"dir": str(backups), "file": "db-20261129T031500Z.dump", "size": 4, "time": "1970-01-01T00:50:00Z",
                     "age": 600, "files": 3, "error": ""}


def test_run_lock_free_held_stale_and_without_owner(tmp_path):
    assert host_guide.read_lock(str(tmp_path), 60, 0) == {"held": False, "error": ""}
    lock = tmp_path / "run.lock"
    lock.mkdir()
    (lock / "owner").write_text(json.dumps({"token": "ab12", "owner": "ops@ctl", "scenario": "Complete service outage",
                                            "started": "2026-11-29T12:00:00Z"}))
    (lock / "heartbeat").write_text("")
    for path in (lock, lock / "owner"):
        os.utime(path, (1000, 1000))
    os.utime(lock / "heartbeat", (1100, 1100))
    held = host_guide.read_lock(str(tmp_path), 60, 1130)
    assert held == {"held": True, "owner": "ops@ctl", "scenario": "Complete service outage",
                    "started": "2026-11-29T12:00:00Z", "started_epoch": 1795953600.0, "heartbeat_age": 30,
                    "stale": False, "error": ""}
    assert "token" not in held
    assert host_guide.read_lock(str(tmp_path), 60, 1200)["stale"] is True
    (lock / "owner").unlink()
    assert host_guide.read_lock(str(tmp_path), 60, 1200)["owner"] == ""


def test_last_release_from_the_ledger(tmp_path):
    missing, entries = ledger.read_ledger(str(tmp_path))
    assert (missing, entries) == ("no release ledger at %s/releases.jsonl" % tmp_path, [])
    assert host_guide.last_release([], str(tmp_path), missing, 0) == {"error": missing}
    (tmp_path / "releases.jsonl").write_text(
        '{"commit": "0123456789abcdef0123456789abcdef01234567", "epoch": 1000, "scenario": "Rollback", '
        '"source": "passed the health gate", "time": "1970-01-01T00:16:40Z"}\nnot json\n')
    error, entries = ledger.read_ledger(str(tmp_path))
    assert error == "" and len(entries) == 1
    assert host_guide.last_release(entries, str(tmp_path), error, 1600) == {
        "commit": "0123456789abcdef0123456789abcdef01234567", "time": "1970-01-01T00:16:40Z", "scenario": "Rollback",
        "age": 600, "error": ""}
    assert host_guide.last_release([], str(tmp_path), "", 0)["error"].startswith("the release ledger ")


def test_a_folder_the_user_cannot_read_is_unknown_not_absent(tmp_path, monkeypatch):
    """What a login without root meets in a 0700 state folder (the tests run as root, who reads it anyway)."""
    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    with monkeypatch.context() as patch:
        patch.setattr(ledger, "open", denied, raising=False)
        patch.setattr(os, "stat", denied)
        patch.setattr(os, "listdir", denied)
        lock = host_guide.read_lock(str(tmp_path), 60, 0)
        read = ledger.read_ledger(str(tmp_path))
        backup = host_guide.read_backup(str(tmp_path), 0)
    reason = ": Permission denied (as uid %d)" % os.getuid()
    assert lock == {"held": False, "error": str(tmp_path / "run.lock") + reason}
    assert read == (str(tmp_path / "releases.jsonl") + reason, [])
    assert backup["error"] == str(tmp_path) + reason
    assert report.guide_checks({"guide": {"lock": lock}})[4] == ("Run lock", "unknown (%s)" % lock["error"])


def test_unreadable_names_the_reason():
    assert ledger.unreadable(FileNotFoundError(2, "No such file or directory"), "/x", "no x") == "no x"
    assert ledger.unreadable(PermissionError(13, "Permission denied"), "/x", "no x") == (
        "/x: Permission denied (as uid %d)" % os.getuid())


def _guide(**changes) -> dict:
    guide = {
        "health": {"url": "http://localhost:3000/health", "status": 200, "elapsed": 0.031, "error": ""},
        "db_health": {"url": "http://app:pa55word@localhost:3000/api/health/db", "status": 503, "elapsed": 0.1,
                      "error": ""},
        "certificate": {"domain": "api.test", "same": False,
                        "file": {"path": "/etc/letsencrypt/live/api.test/cert.pem", "found": True,
                                 "not_after": "2026-12-19T15:00:00Z", "days_left": 19, "serial": "AB", "error": ""},
                        "served": {"address": "127.0.0.1:443", "found": True, "not_after": "2026-11-28T15:00:00Z",
                                   "days_left": -2, "serial": "CD", "error": ""}},
        "docker_disk": {"rows": docker_output.parse_system_df(SYSTEM_DF), "error": ""},
        "failed_units": {"units": ["a.service", "b.timer"], "error": ""},
        "firewall": {"state": "active", "rules": 1, "error": ""},
        "backup": {"dir": "/root/backups", "file": "db-20261129T031500Z.dump", "size": 4,
                   "time": "2026-11-29T03:15:00Z", "age": 9 * 3600 + 300, "files": 1, "error": ""},
        "lock": {"held": True, "owner": "ops@ctl", "scenario": "Complete service outage",
                 "started": "2026-11-29T12:00:00Z", "started_epoch": 1795953600.0, "heartbeat_age": 400,
                 "stale": True, "error": ""},
        "last_release": {"commit": "0123456789abcdef0123", "time": "2026-11-29T11:00:00Z", "scenario": "Rollback",
                         "age": 4200, "error": ""},
    }
    guide.update(changes)
    return guide


def test_the_guide_opens_the_message_one_line_per_item():
    found = dict(_found(), guide=report._redact_strings(_guide()))
    lines = report.diagnose_lines(found, "h1")
    assert lines[1:11] == [
        "API health: healthy: 200 in 0.03s from GET http://localhost:3000/health",
        "Database health: NOT healthy: 503 in 0.10s from GET http://app:********@localhost:3000/api/health/db",
        "Certificate file (api.test): 19 days left (until 2026-12-19 15:00:00Z), /etc/letsencrypt/live/api.test/cert.pem",
        "Certificate served: EXPIRED since 2026-11-28 15:00:00Z, NOT the lineage's certificate "
        "(renewed but not loaded?) on 127.0.0.1:443 for api.test",
        "Run lock: held by ops@ctl (Complete service outage) since 2026-11-29 12:00:00Z (10m ago), "
        "last heartbeat 6m ago: stale, `runbook unlock-stale` gives it back",
        "Last healthy release: 0123456789ab at 2026-11-29 11:00:00Z (1h10m ago), by Rollback",
        "Last backup: db-20261129T031500Z.dump, 9h05m old (2026-11-29 03:15:00Z), 1 file in /root/backups",
        "Firewall (ufw): active, 1 rule",
        "Failed systemd units: 2: a.service, b.timer",
        "Docker disk: images 3, 115MB (115MB reclaimable); containers 2, 0B; volumes 0, 0B; "
        "build cache 10, 10.04kB (10.04kB reclaimable)",
    ]
    assert lines[11] == "Services and containers:"
    assert len(report.diagnose_lines(dict(found, top_cpu=found["top_cpu"][:3], top_mem=found["top_mem"][:3]), "h1")) <= 40


def test_absent_sources_read_unknown_with_their_reason():
    guide = _guide(
        health={"url": "http://localhost:3000/health", "status": None, "elapsed": 0.01,
                "error": "127.0.0.1:3000 connection refused"},
        certificate={"domain": "api.test", "same": False,
                     "file": {"path": "/x/cert.pem", "found": False, "error": "no certificate at /x/cert.pem"},
                     "served": {"address": "127.0.0.1:443", "found": False, "error": "nothing listens on 127.0.0.1:443"}},
        docker_disk={"rows": [], "error": "the Docker engine (docker) is not active"},
        failed_units={"units": [], "error": ""},
        firewall={"state": "", "rules": None, "error": "ufw is not installed"},
        backup={"dir": "/root/backups", "error": "no backup in /root/backups"},
        lock={"held": False, "error": ""},
        last_release={"error": "no release ledger at /var/lib/runbook/releases.jsonl"},
    )
    checks = dict(report.guide_checks(dict(_found(), guide=guide)))
    assert checks == {
        "API health": "NOT healthy: no answer from GET http://localhost:3000/health (127.0.0.1:3000 connection refused)",
        "Database health": "NOT healthy: 503 in 0.10s from GET http://app:pa55word@localhost:3000/api/health/db",
        "Certificate file (api.test)": "unknown (no certificate at /x/cert.pem)",
        "Certificate served": "unknown (nothing listens on 127.0.0.1:443)",
        "Run lock": "free",
        "Last healthy release": "unknown (no release ledger at /var/lib/runbook/releases.jsonl)",
        "Last backup": "unknown (no backup in /root/backups)",
        "Firewall (ufw)": "unknown (ufw is not installed)",
        "Failed systemd units": "none",
        "Docker disk": "unknown (the Docker engine (docker) is not active)",
    }


def test_the_guide_is_published_redacted_with_its_lines_for_the_report():
    raw = dict(_found(), guide=_guide())
    data = report.diagnose_data(report.diagnose_redact(raw))
    assert set(data) == {"containers", "services", "disk", "memory", "top_cpu", "top_mem", "log_errors", "guide", "checks"}
    assert data["guide"]["db_health"]["url"] == "http://app:********@localhost:3000/api/health/db"
    assert data["checks"][0] == {"check": "API health", "result": "healthy: 200 in 0.03s from GET http://localhost:3000/health"}
    assert "pa55word" not in json.dumps(data)
    assert "guide" not in report.diagnose_data(_found())  # the scenarios' own diagnosis stays as it was


def test_the_report_shows_the_guide_as_a_checks_table():
    from runbook.report import evidence

    data = report.diagnose_data(report.diagnose_redact(dict(_found(), guide=_guide())))
    lines = evidence({"diagnosis": {"h1": data}})
    start = lines.index("Checks:")
    assert lines[start + 2:start + 4] == ["| Check | Result |", "|---|---|"]
    assert lines[start + 4] == "| API health | healthy: 200 in 0.03s from GET http://localhost:3000/health |"
    assert len([line for line in lines if line.startswith("| ")]) >= 11
    assert "pa55word" not in "\n".join(lines)


# --- The signs of sections 6, 3 and 8 (guide=true) -------------------------------------------------------------


SIGN_LIMITS = {"memory_pct_max": 90.0, "cpu_pct_max": 90.0, "load_pct_max": 100.0, "oom_window": 60,
               "login_window": 10, "login_failures_max": 3, "payment_service": "api", "payment_words": "stripe|payment",
               "payment_error_pattern": "error|fail", "payment_window": 30}


def test_read_signs_puts_each_sign_next_to_its_limit(tmp_path):
    """This machine's own /proc for memory, CPU and load; the journal, kernel log, log lines and ledger as read."""
    env = tmp_path / ".env"
    env.write_text("A=1\n")
    now = int(os.stat(env).st_mtime) + 30
    found = {"now_epoch": now, "memory": usage.parse_meminfo(Path("/proc/meminfo").read_text()),
             "containers": [{"name": "backend-worker-1", "oom_killed": True}, {"name": "backend-api-1"}],
             "log_sources": {"api": "last 500 log lines of backend-api-1"}, "log_unread": {}}
    stamp = times.iso(now - 60).replace("Z", ".5Z")
    raw = {"api": [stamp + " ERROR stripe charge failed", stamp + " stripe webhook received"]}
    logins = [(now - 60, "sshd-session", str(pid), "Invalid user x%d from 10.0.0.1 port 22" % pid) for pid in range(3)]
    kernel = [(now - 120, "kernel", "", "Memory cgroup out of memory: Killed process 7 (python3)")]
    releases = [{"commit": "a" * 40, "epoch": now - 3600}]
    cpu_before = runbook_diagnose.cpu_times(Path("/proc/stat").read_text())
    state = tmp_path / "state"
    limits = dict(SIGN_LIMITS, env_file=str(env), state_dir=str(state))
    signs = runbook_diagnose.read_signs(limits, found, raw, ("", releases), cpu_before,
                                        (logins, "the journal", ""), (kernel, "the kernel log (dmesg)"))
    assert signs["resources"]["memory_pct_max"] == 90.0 and signs["resources"]["cpus"] == os.cpu_count()
    assert signs["resources"]["memory_over"] is (signs["resources"]["memory_pct"] >= 90.0)
    assert (signs["oom"]["count"], signs["oom"]["containers"]) == (1, ["backend-worker-1"])
    assert (signs["failed_logins"]["count"], signs["failed_logins"]["burst"]) == (3, True)
    assert signs["payments"]["count"] == 1 and signs["payments"]["lines"][0].endswith("ERROR stripe charge failed")
    assert signs["env_file"]["changed_after_release"] is True
    # the runbook's own write of .env, noted with the file's SHA-256, explains it; an edit since does not
    state.mkdir()
    noted = {"path": str(env), "sha256": hashlib.sha256(b"A=1\n").hexdigest(), "scenario": "payments",
             "time": "2026-12-10T03:59:00Z"}
    (state / "env-writes.jsonl").write_text(json.dumps(noted) + "\n")
    explained = runbook_diagnose.read_signs(limits, found, raw, ("", releases), cpu_before, (logins, "the journal", ""),
                                            (kernel, "the kernel log (dmesg)"))["env_file"]
    assert (explained["changed_after_release"], explained["explained_by"]) == (
        False, "the runbook's payments run at 2026-12-10T03:59:00Z")
    env.write_text("A=2\n")
    edited = runbook_diagnose.read_signs(limits, found, raw, ("", releases), cpu_before, (logins, "the journal", ""),
                                         (kernel, "the kernel log (dmesg)"))["env_file"]
    assert (edited["changed_after_release"], edited["explained_by"]) == (True, "")
    # without a journal the logins are unknown, never "no burst"; without the api's lines, payments say why
    found["log_unread"] = {"api": "the Docker engine is not active"}
    signs = runbook_diagnose.read_signs(dict(limits, env_file=""), found, {}, ("", releases), cpu_before,
                                        ([], "", "no journalctl, and no /var/log/auth.log"), (None, ""))
    assert (signs["failed_logins"]["burst"], signs["failed_logins"]["error"]) == (
        False, "no journalctl, and no /var/log/auth.log")
    assert (signs["payments"]["count"], signs["payments"]["error"]) == (None, "the Docker engine is not active")
    assert signs["env_file"]["error"] == "no environment file given"
