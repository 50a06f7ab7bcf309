"""The diagnose role's module (runbook_diagnose) and filters (diagnose_report),
on outputs captured from a test host (Debian 13, Docker 26, compose 2.26,
systemd 257): parsing, the published shape, redaction and the text a person reads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from loading import load_module

ROLE = Path(__file__).resolve().parent.parent / "roles" / "diagnose"


probe = load_module(ROLE / "library" / "runbook_diagnose.py", "runbook_diagnose")
report = load_module(ROLE / "filter_plugins" / "diagnose_report.py", "diagnose_report")

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
    rows = probe.parse_df(DF)
    assert [row["mount"] for row in rows] == ["/", "/etc/hosts"]  # the module then drops mounts that are files
    assert {key: rows[0][key] for key in ("size", "used", "avail", "use_pct")} == {
        "size": "252G", "used": "28G", "avail": "74G", "use_pct": 28}


@pytest.mark.parametrize("kib, shown", [(512, "512K"), (2048, "2.0M"), (10_137, "9.9M"), (264_212_084, "252G"),
                                        (28_922_156, "28G"), (9_437_185, "9.1G"), (1024 ** 3 * 3, "3.0T")])
def test_sizes_read_as_df_h_shows_them(kib, shown):
    assert probe.human_size(kib) == shown


def test_memory_as_free_computes_it():
    assert probe.parse_meminfo(MEMINFO) == {"total_mb": 24105, "used_mb": 1527, "available_mb": 22578,
                                            "swap_total_mb": 2047, "swap_used_mb": 1024}


def test_one_ps_call_gives_both_top_lists_without_the_probe_itself():
    processes = probe.parse_ps(PS, skip={2022})
    assert len(processes) == 12
    by_cpu = probe.top(processes, "cpu", 3)
    by_mem = probe.top(processes, "mem", 3)
    assert [p["pid"] for p in by_cpu] == [1882, 1969, 1]
    assert [p["pid"] for p in by_mem] == [1882, 83, 98]  # equal %MEM: the larger resident set first
    assert by_cpu[0] == {"pid": 1882, "user": "root", "cpu": 1.2, "mem": 0.3, "rss_kb": 86040,
                         "command": "/usr/sbin/dockerd -H fd:// --containerd=/run/containerd/containerd.sock"}
    commands = {p["pid"]: p["command"] for p in processes}
    assert len(commands[68]) == probe.COMMAND_WIDTH and commands[68].startswith("/usr/bin/dbus-daemon --system")
    assert commands[68].endswith("...")  # cut to the width of a terminal line
    assert commands[105] == "postgres: 17/main: walwriter"  # ps pads it with a blank


def test_units_with_state_since_and_restarts():
    units = probe.parse_systemctl_show(SYSTEMCTL, ["docker", "nginx", "nosuch"])
    assert [(u["name"], u["state"], u["since"], u["restarts"]) for u in units] == [
        ("docker", "active", "2026-11-29T12:04:36Z", 0),
        ("nginx", "failed", "2026-11-29T12:04:46Z", 2),  # since it failed, as systemctl status says
        ("nosuch", "not-found", "", 0),
    ]


def test_compose_ps_in_both_formats():
    lines = probe.parse_compose_ps(COMPOSE_PS)
    assert [(c["id"], c["service"]) for c in lines] == [("0238abe3b81d", "api"), ("8cc4fc47423b", "worker")]
    as_array = "[" + ",".join(COMPOSE_PS.strip().splitlines()) + "]"  # compose before 2.21
    assert probe.parse_compose_ps(as_array) == lines
    assert probe.parse_compose_ps("") == []


def test_containers_with_state_since_restarts_and_health():
    rows = probe.parse_inspect(INSPECT)
    assert [(r["name"], r["service"], r["state"], r["since"], r["restarts"], r["health"], r["exit_code"]) for r in rows] == [
        ("backend-api-1", "api", "running", "2026-11-29T12:07:54Z", 3, "healthy", 0),
        ("backend-worker-1", "worker", "exited", "2026-11-29T12:08:00Z", 0, "none", 137),  # since it stopped
    ]


def test_error_lines_merged_in_time_order_ansi_stripped():
    merged = sorted(LOG_OUT.splitlines() + LOG_ERR.splitlines(), key=probe.log_time)
    found = probe.error_lines(merged, probe.ERROR_PATTERN, 20)
    assert found == [
        "2026-11-29T12:05:39Z ERROR payment failed STRIPE_SECRET_KEY=sk_live_PLANTEDdiag0123456789 retrying",
        "2026-11-29T12:05:39Z Traceback (most recent call last): boom",
    ]
    assert probe.error_lines(merged, probe.ERROR_PATTERN, 1) == found[-1:]
    assert probe.error_lines(LOG_OUT.splitlines()[:1], probe.ERROR_PATTERN, 20) == []


def test_nginx_error_levels_are_error_lines_and_notices_are_not():
    found = probe.error_lines(NGINX_ERRORS.splitlines(), probe.ERROR_PATTERN, 20)
    assert len(found) == 1 and "[error]" in found[0]
    assert probe.error_lines(["2026/11/29 12:10:01 [emerg] 1#1: bind() failed"], probe.ERROR_PATTERN, 5)


@pytest.mark.parametrize("text", ["\x1b[2Kapi-1  | up", "\\x1b[2Kapi-1  | up", "\\u001b[31mapi-1  | up\\u001b[0m",
                                  "\\033[1mapi-1  | up", "\x1b]0;title\x07api-1  | up"])
def test_ansi_in_both_forms_is_stripped(text):
    assert probe.strip_ansi(text) == "api-1  | up"


def test_tail_file_reads_only_the_end(tmp_path):
    log = tmp_path / "error.log"
    log.write_text("".join("line %d\n" % n for n in range(5000)))
    assert probe.tail_file(str(log), 3, block=64) == ["line 4997", "line 4998", "line 4999"]
    assert probe.tail_file(str(log), 10000)[0] == "line 0"


def _found() -> dict:
    """What the module returns for the host above, redacted as the role does."""
    units = probe.parse_systemctl_show(SYSTEMCTL, ["docker", "nginx"])
    processes = probe.parse_ps(PS, skip={2022})
    merged = sorted(LOG_OUT.splitlines() + LOG_ERR.splitlines(), key=probe.log_time)
    raw = {
        "now": "2026-11-29T12:10:00Z", "now_epoch": 1795954200,
        "services": units, "containers": probe.parse_inspect(INSPECT), "disk": probe.parse_df(DF)[:1],
        "memory": probe.parse_meminfo(MEMINFO),
        "top_cpu": probe.top(processes, "cpu", 5), "top_mem": probe.top(processes, "mem", 5),
        "log_errors": {"api": probe.error_lines(merged, probe.ERROR_PATTERN, 20),
                       "nginx": probe.error_lines(NGINX_ERRORS.splitlines(), probe.ERROR_PATTERN, 20)},
        "log_sources": {"api": "last 500 log lines of backend-api-1",
                        "nginx": "last 500 lines of /var/log/nginx/error.log"},
        "log_unread": {}, "releases": [{"commit": "0123456789abcdef0123"}], "notes": [],
    }
    return report.diagnose_redact(raw)


def test_published_shape_is_exactly_the_reports():
    data = report.diagnose_data(_found())
    assert set(data) == {"containers", "services", "disk", "memory", "top_cpu", "top_mem", "log_errors"}
    assert data["containers"][0] == {"name": "backend-api-1", "state": "running", "since": "2026-11-29T12:07:54Z",
                                     "restarts": 3, "health": "healthy"}
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
