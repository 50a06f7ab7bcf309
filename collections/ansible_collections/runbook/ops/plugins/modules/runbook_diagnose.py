#!/usr/bin/python
# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""The runbook's quick diagnostics, read in one round trip and returned as data.

Reads, changing nothing:
  - systemd units (the Docker engine, the proxy, any other): state, since
    when, restarts (`systemctl show`, one call);
  - the compose project's containers: state, since when, restarts, health
    (`docker compose ps` for the ids, one `docker inspect` for all of them);
    skipped when the engine's unit is not active, because a docker command
    would start a socket-activated engine;
  - disk per mount (`df -P -k -T`, pseudo and container filesystems left out);
  - memory (/proc/meminfo, as `free` computes it);
  - the top processes by CPU and by memory, from one `ps` call;
  - the last error lines of some compose services (`docker logs`) and of the
    proxy's error log, ANSI escape sequences stripped (raw: the caller
    redacts, and must register this result with no_log);
  - the last releases of the runbook's ledger (<state_dir>/releases.jsonl).
With guide=true also the rest of the guide, in `guide` (each item carries
`error` instead of its data when its source is absent or unreadable):
  - the health and database health URLs (one GET each, at the same time as
    the rest is read);
  - the certificate of the domain's lineage file and the one served on
    https_host:https_port with SNI for the domain: days left, serial
    (python3-cryptography when the host has it, else `openssl x509`);
  - Docker's disk usage (`docker system df`), only while the engine is active;
  - failed systemd units; ufw's state and its user rules;
  - the newest file under the backup directory and its age;
  - the run lock (<state_dir>/run.lock: owner, scenario, since, heartbeat);
  - the last healthy release of the ledger.
Commands run with an argument list, never through a shell. A part that cannot
be read is reported in `notes`; the module itself does not fail on it.
"""

from __future__ import annotations

DOCUMENTATION = r"""
module: runbook_diagnose
short_description: Read services, containers, disk, memory, top processes and error lines of a host
options:
  compose_dir: {type: path, required: true, description: The directory of the app's compose file.}
  engine_service: {type: str, default: docker, description: systemd unit of the Docker engine.}
  services: {type: list, elements: str, default: [], description: Further systemd units to report (the proxy, ...).}
  log_services: {type: list, elements: str, default: [api], description: Compose services whose error lines are read.}
  proxy_name: {type: str, default: nginx, description: Name under which the proxy's error lines are returned.}
  proxy_error_log: {type: path, default: /var/log/nginx/error.log, description: The proxy's error log.}
  log_lines: {type: int, default: 500, description: Lines read from the end of each log.}
  error_pattern: {type: str, description: Regular expression (case-insensitive) of an error line.}
  error_lines: {type: int, default: 20, description: Error lines kept per log (the last ones).}
  top: {type: int, default: 5, description: Processes listed by CPU and by memory.}
  state_dir: {type: path, default: /var/lib/runbook, description: Where the release ledger releases.jsonl is.}
  releases: {type: int, default: 5, description: Ledger entries returned (the last ones).}
  guide: {type: bool, default: false, description: Also read the rest of the guide (returned as C(guide)).}
  health_url: {type: str, default: '', description: The app's health URL (guide).}
  db_health_url: {type: str, default: '', description: The app's database health URL (guide).}
  health_timeout: {type: float, default: 5, description: Seconds one health request may take.}
  validate_certs: {type: bool, default: true, description: Validate TLS certificates of an https health URL.}
  domain: {type: str, default: '', description: The name on the TLS certificate (guide).}
  cert_live_dir: {type: path, default: /etc/letsencrypt/live, description: certbot's live directory, one folder per lineage.}
  https_host: {type: str, default: 127.0.0.1, description: Where the web server serves HTTPS on the host.}
  https_port: {type: int, default: 443, description: Its port.}
  tls_timeout: {type: float, default: 3, description: Seconds the TLS handshake may take.}
  backup_dir: {type: path, default: /root/backups, description: Where the app's backups are (guide).}
  lock_stale_after: {type: int, default: 60, description: Seconds without a heartbeat after which the run lock is stale.}
"""

import json
import math
import os
import re
import shutil
import socket
import ssl
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from urllib.parse import urlsplit

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.six.moves.urllib.error import HTTPError
from ansible.module_utils.urls import open_url

ERROR_PATTERN = r"error|fatal|exception|panic|crit|traceback|\[(alert|emerg)\]"
# File systems that hold no data a person frees space on.
PSEUDO_TYPES = frozenset({
    "tmpfs", "devtmpfs", "devfs", "proc", "sysfs", "cgroup", "cgroup2", "overlay", "aufs", "squashfs",
    "nsfs", "securityfs", "debugfs", "tracefs", "configfs", "fusectl", "mqueue", "hugetlbfs", "pstore",
    "bpf", "autofs", "binfmt_misc", "efivarfs", "ramfs", "shm", "devpts", "rpc_pipefs", "nfsd",
})
UNIT_PROPERTIES = ("Id", "LoadState", "ActiveState", "SubState", "NRestarts", "StateChangeTimestamp",
                   "ActiveEnterTimestamp", "InactiveEnterTimestamp", "InactiveExitTimestamp", "ActiveExitTimestamp")
# Real escape sequences (CSI and OSC) and their printed forms: \x1b[2K, \u001b[31m, \033[0m, \e[1m.
ANSI = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]"
    r"|\\(?:x1[bB]|u001[bB]|033|e)\[[0-?]*[ -/]*[@-~]"
)
# The RFC 3339 time `docker logs --timestamps` puts in front of each line.
DOCKER_TIME = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.\d+)?(Z|[+-]\d\d:\d\d) ")
COMMAND_WIDTH = 80


def run(argv, cwd=None, timeout=30):
    """(rc, stdout, stderr) of a command; arguments are passed as a list, never through a shell."""
    try:
        proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, errors="replace", timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return 127, "", str(exc)
    return proc.returncode, proc.stdout, proc.stderr


def strip_ansi(text):
    return ANSI.sub("", text)


def iso(epoch):
    """An epoch as 2026-11-29T12:04:36Z, or '' for none."""
    if epoch is None:
        return ""
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def docker_epoch(text):
    """Seconds since the epoch of a Docker time (2026-11-29T12:04:47.318342316Z); None for Docker's zero time."""
    found = re.match(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.\d+)?(Z|[+-]\d\d:\d\d)$", text or "")
    if not found or found.group(1).startswith("0001-"):
        return None
    zone = "+00:00" if found.group(2) == "Z" else found.group(2)
    return datetime.fromisoformat(found.group(1) + zone).timestamp()


def human_size(kib):
    """A size in KiB as `df -h` shows it (powers of 1024, rounded up): 264212084 -> 252G."""
    value, unit = float(kib), "K"
    for unit in ("K", "M", "G", "T", "P", "E"):
        if value < 1024 or unit == "E":
            break
        value /= 1024
    if value < 10 and unit != "K":
        return "%.1f%s" % (math.ceil(value * 10) / 10, unit)
    return "%d%s" % (math.ceil(value), unit)


def parse_systemctl_show(text, names):
    """The units of `systemctl show -p ... --timestamp=unix NAME...`, in the order of names."""
    blocks = [block for block in text.strip().split("\n\n") if block.strip()]
    units = []
    for name, block in zip(names, blocks):
        props = dict(line.split("=", 1) for line in block.splitlines() if "=" in line)
        active = props.get("ActiveState", "unknown")
        # The time `systemctl status` shows after "since".
        since_property = {"active": "ActiveEnterTimestamp", "reloading": "ActiveEnterTimestamp",
                          "inactive": "InactiveEnterTimestamp", "failed": "InactiveEnterTimestamp",
                          "activating": "InactiveExitTimestamp", "deactivating": "ActiveExitTimestamp"}
        stamp = props.get(since_property.get(active, ""), "") or props.get("StateChangeTimestamp", "")
        since = int(stamp[1:]) if stamp.startswith("@") and stamp[1:].isdigit() else None
        restarts = props.get("NRestarts", "")
        state = "not-found" if props.get("LoadState") == "not-found" else active
        units.append({"name": name, "state": state, "sub_state": props.get("SubState", ""),
                      "since": iso(since), "since_epoch": since,
                      "restarts": int(restarts) if restarts.isdigit() else None})
    return units


def parse_compose_ps(text):
    """Containers of `docker compose ps --all --format json`: one JSON object a line (compose >= 2.21) or one array."""
    text = text.strip()
    if not text:
        return []
    if text.startswith("["):
        items = json.loads(text)
    else:
        items = [json.loads(line) for line in text.splitlines() if line.strip()]
    return [{"id": item.get("ID", ""), "name": item.get("Name", ""), "service": item.get("Service", "")}
            for item in items]


def parse_inspect(text):
    """Container rows of `docker inspect ID...`: name, state, since, restarts, health, exit code, service."""
    rows = []
    for item in json.loads(text or "[]"):
        state = item.get("State") or {}
        status = state.get("Status", "unknown")
        if status in ("running", "paused", "restarting"):
            since = docker_epoch(state.get("StartedAt"))
        else:
            since = docker_epoch(state.get("FinishedAt")) or docker_epoch(item.get("Created"))
        labels = (item.get("Config") or {}).get("Labels") or {}
        rows.append({
            "name": item.get("Name", "").lstrip("/"),
            "service": labels.get("com.docker.compose.service", ""),
            "id": item.get("Id", ""),
            "state": status,
            "exit_code": state.get("ExitCode"),
            "since": iso(since),
            "since_epoch": since,
            "restarts": item.get("RestartCount", 0),
            "health": (state.get("Health") or {}).get("Status") or "none",
        })
    return sorted(rows, key=lambda row: row["name"])


def parse_df(text):
    """Mounts of `df -P -k -T` that hold data: pseudo, container and in-memory file systems left out."""
    rows = []
    for line in text.splitlines()[1:]:
        fields = line.split(None, 6)
        if len(fields) < 7 or not fields[2].isdigit():
            continue
        source, fstype, size, used, avail, capacity, mount = fields
        if fstype in PSEUDO_TYPES and not (fstype == "overlay" and mount == "/"):
            continue
        rows.append({"mount": mount, "size": human_size(int(size)), "used": human_size(int(used)),
                     "avail": human_size(int(avail)), "use_pct": int(capacity.rstrip("%") or 0),
                     "filesystem": source, "type": fstype})
    return rows


def parse_meminfo(text):
    """Memory in MB as `free -m` computes it (used = total - available)."""
    kib = {}
    for line in text.splitlines():
        name, _, rest = line.partition(":")
        value = rest.split()
        if value and value[0].isdigit():
            kib[name] = int(value[0])
    total = kib.get("MemTotal", 0)
    available = kib.get("MemAvailable", kib.get("MemFree", 0) + kib.get("Buffers", 0) + kib.get("Cached", 0))
    return {"total_mb": total // 1024, "used_mb": (total - available) // 1024, "available_mb": available // 1024,
            "swap_total_mb": kib.get("SwapTotal", 0) // 1024,
            "swap_used_mb": (kib.get("SwapTotal", 0) - kib.get("SwapFree", 0)) // 1024}


def parse_ps(text, skip=()):
    """Processes of `ps -eo pid=,user:32=,pcpu=,pmem=,rss=,args=`, without the pids in skip."""
    processes = []
    for line in text.splitlines():
        fields = line.split(None, 5)
        if len(fields) < 5 or not fields[0].isdigit() or int(fields[0]) in skip:
            continue
        command = " ".join(fields[5].split()) if len(fields) == 6 else ""  # one line, single blanks
        if len(command) > COMMAND_WIDTH:
            command = command[:COMMAND_WIDTH - 3] + "..."
        processes.append({"pid": int(fields[0]), "user": fields[1], "cpu": float(fields[2]),
                          "mem": float(fields[3]), "rss_kb": int(fields[4]), "command": command})
    return processes


def top(processes, key, count):
    """The count processes highest in key (cpu or mem); ties go to the larger resident memory, then the lower pid."""
    return sorted(processes, key=lambda process: (-process[key], -process["rss_kb"], process["pid"]))[:count]


def clean_log_line(line):
    """A log line without ANSI sequences, Docker's time cut to the second (2026-11-29T12:05:39Z)."""
    line = strip_ansi(line).rstrip()
    found = DOCKER_TIME.match(line)
    if found:
        zone = "Z" if found.group(2) in ("Z", "+00:00") else found.group(2)
        line = found.group(1) + zone + " " + line[found.end():]
    return line


def log_time(line):
    """Sort key of a `docker logs --timestamps` line: its time, the fraction padded (Docker trims its zeros)."""
    found = re.match(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d) ", line)
    if not found:
        return ("", "")
    return (found.group(1), (found.group(2) or "").ljust(9, "0"))


def error_lines(lines, pattern, keep):
    """The last keep lines that match pattern (case-insensitive), cleaned, oldest first."""
    matcher = re.compile(pattern, re.IGNORECASE)
    found = [clean_log_line(line) for line in lines]
    found = [line for line in found if line and matcher.search(line)]
    return found[-keep:] if keep > 0 else []


def tail_file(path, count, block=65536):
    """The last count lines of a file, read from its end."""
    with open(path, "rb") as f:
        f.seek(0, os.SEEK_END)
        end = position = f.tell()
        data = b""
        while position > 0 and data.count(b"\n") <= count:
            position = max(0, position - block)
            f.seek(position)
            data = f.read(end - position)
    return data.decode("utf-8", "replace").splitlines()[-count:]


def read_units(names, notes):
    argv = ["systemctl", "show", "--timestamp=unix", "-p", ",".join(UNIT_PROPERTIES), "--", *names]
    rc, out, err = run(argv)
    if rc != 0:
        notes.append("systemd units not read: %s" % (err.strip() or "systemctl exited %d" % rc))
        return []
    return parse_systemctl_show(out, names)


def read_containers(compose_dir, notes):
    rc, out, err = run(["docker", "compose", "ps", "--all", "--format", "json"], cwd=compose_dir)
    if rc != 0:
        notes.append("containers not read (docker compose ps in %s): %s" % (compose_dir, err.strip()))
        return []
    ids = [container["id"] for container in parse_compose_ps(out)]
    if not ids:
        return []
    rc, out, err = run(["docker", "inspect", "--type", "container", "--", *ids])
    if rc != 0:
        notes.append("containers not inspected: %s" % err.strip())
        return []
    return parse_inspect(out)


def read_container_errors(container_id, lines, pattern, keep):
    # docker logs writes the container's stdout and stderr to its own; read both.
    rc, out, err = run(["docker", "logs", "--timestamps", "--tail", str(lines), container_id])
    if rc != 0:
        return None, err.strip()
    merged = sorted(out.splitlines() + err.splitlines(), key=log_time)
    return error_lines(merged, pattern, keep), ""


def read_processes(notes):
    """Every process from one `ps` call, without this module and that ps."""
    try:
        ps = subprocess.Popen(["ps", "-eo", "pid=,user:32=,pcpu=,pmem=,rss=,args="], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, errors="replace")
        out, err = ps.communicate(timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        notes.append("processes not read: %s" % exc)
        return []
    if ps.returncode != 0:
        notes.append("processes not read: %s" % err.strip())
    return parse_ps(out, skip={os.getpid(), ps.pid})


def read_ledger(state_dir):
    """(why it was not read or '', entries oldest first) of the release ledger."""
    entries = []
    path = os.path.join(state_dir, "releases.jsonl")
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                try:
                    entry = json.loads(line)
                except ValueError:
                    continue
                if isinstance(entry, dict) and entry.get("commit"):
                    entries.append(entry)
    except OSError as exc:
        return unreadable(exc, path, "no release ledger at %s" % path), []
    return "", entries


def unreadable(exc, path, missing):
    """Why a path could not be read: `missing` when it is not there, else the system's reason."""
    if isinstance(exc, (FileNotFoundError, NotADirectoryError)):
        return missing
    return "%s: %s (as uid %d)" % (path, exc.strerror or exc, os.getuid())


# --- The rest of the guide (guide=true) ------------------------------------------------------------

PEM_CERTIFICATE = re.compile(r"-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]+-----END CERTIFICATE-----")
# Where ufw lives on Debian; a module's PATH may lack the sbin directories.
SBIN_PATH = os.pathsep.join((os.environ.get("PATH", ""), "/usr/local/sbin", "/usr/sbin", "/sbin"))
LOCK_DIR = "run.lock"


def read_health(url, timeout, validate_certs):
    """One GET of a health URL: its status (None when nothing answered), seconds taken, why nothing answered."""
    if not url:
        return {"url": "", "status": None, "elapsed": None, "error": "no URL given"}
    start = time.monotonic()
    status, error = None, ""
    try:
        response = open_url(url, method="GET", timeout=timeout, validate_certs=validate_certs,
                            follow_redirects="safe")
        try:
            status = response.getcode()
        finally:
            response.close()
    except HTTPError as exc:
        status = exc.code
        exc.close()
    except Exception as exc:  # pylint: disable=broad-except
        reason = getattr(exc, "reason", None) or exc
        error = str(reason) or exc.__class__.__name__
        if isinstance(reason, (socket.timeout, TimeoutError)) or "timed out" in error:
            error = "no answer within %gs" % timeout
        elif isinstance(reason, OSError):
            # urllib names only the last address it tried (localhost: ::1 after 127.0.0.1); say what each one did.
            error = connect_errors(url, timeout) or error
    return {"url": url, "status": status, "elapsed": round(time.monotonic() - start, 3), "error": error}


def connect_errors(url, timeout):
    """What a TCP connection to each address of the URL's host meets: "127.0.0.1:3000 connection refused; ..."."""
    parts = urlsplit(url)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        addresses = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (OSError, ValueError) as exc:
        return "%s: %s" % (parts.hostname, getattr(exc, "strerror", None) or exc)
    seen, errors = set(), []
    for family, kind, proto, _, address in addresses:
        shown = ("[%s]:%d" if family == socket.AF_INET6 else "%s:%d") % address[:2]
        if shown in seen:
            continue
        seen.add(shown)
        try:
            with socket.socket(family, kind, proto) as sock:
                sock.settimeout(timeout)
                sock.connect(address)
            errors.append("%s accepts connections" % shown)
        except OSError as exc:
            errors.append("%s %s" % (shown, (exc.strerror or str(exc) or exc.__class__.__name__).lower()))
    return "; ".join(errors)


def parse_openssl_x509(text):
    """(notAfter epoch, serial hex) from `openssl x509 -noout -enddate -serial`."""
    fields = dict(line.split("=", 1) for line in text.splitlines() if "=" in line)
    not_after = datetime.strptime(fields["notAfter"].strip(), "%b %d %H:%M:%S %Y GMT")
    return not_after.replace(tzinfo=timezone.utc).timestamp(), "%X" % int(fields["serial"].strip(), 16)


def certificate_facts(der):
    """(notAfter epoch, serial hex) of a DER certificate: python3-cryptography, else openssl; ValueError if neither."""
    try:
        from cryptography import x509  # pylint: disable=import-outside-toplevel
    except ImportError:
        x509 = None
    if x509 is not None:
        cert = x509.load_der_x509_certificate(der)
        not_after = getattr(cert, "not_valid_after_utc", None) or cert.not_valid_after.replace(tzinfo=timezone.utc)
        return not_after.timestamp(), "%X" % cert.serial_number
    openssl = shutil.which("openssl", path=SBIN_PATH)
    if not openssl:
        raise ValueError("neither python3-cryptography nor openssl on the host")
    try:
        proc = subprocess.run([openssl, "x509", "-inform", "DER", "-noout", "-enddate", "-serial"], input=der,
                              capture_output=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ValueError("openssl x509: %s" % exc) from exc
    if proc.returncode != 0:
        raise ValueError("openssl x509: %s" % proc.stderr.decode("utf-8", "replace").strip())
    try:
        return parse_openssl_x509(proc.stdout.decode("ascii", "replace"))
    except (KeyError, ValueError) as exc:
        raise ValueError("openssl x509 printed no end date and serial") from exc


def certificate_entry(der, now):
    """What is shown of a certificate: end date, whole days left (floor, negative once expired), serial."""
    not_after, serial = certificate_facts(der)
    return {"found": True, "not_after": iso(not_after), "days_left": math.floor((not_after - now) / 86400),
            "serial": serial, "error": ""}


def read_certificate_file(path, now):
    try:
        with open(path, encoding="ascii", errors="replace") as f:
            found = PEM_CERTIFICATE.search(f.read())
    except OSError as exc:
        reason = "no certificate at %s" % path if isinstance(exc, FileNotFoundError) else "%s: %s" % (path, exc.strerror)
        return {"path": path, "found": False, "error": reason}
    if not found:
        return {"path": path, "found": False, "error": "no PEM certificate in %s" % path}
    try:
        return dict(certificate_entry(ssl.PEM_cert_to_DER_cert(found.group(0)), now), path=path)
    except ValueError as exc:
        return {"path": path, "found": False, "error": "%s not read: %s" % (path, exc)}


def fetch_served_certificate(host, port, server_name, timeout):
    """The DER certificate the server on host:port sends for server_name (not verified: it is what we look at)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with socket.create_connection((host, port), timeout=timeout) as sock:
        with context.wrap_socket(sock, server_hostname=server_name or None) as tls:
            return tls.getpeercert(binary_form=True)


def read_served_certificate(host, port, server_name, timeout, now):
    address = "%s:%d" % (host, port)
    try:
        der = fetch_served_certificate(host, port, server_name, timeout)
    except ConnectionRefusedError:
        return {"address": address, "found": False, "error": "nothing listens on %s" % address}
    except (socket.timeout, TimeoutError):
        return {"address": address, "found": False, "error": "no TLS answer from %s within %gs" % (address, timeout)}
    except ssl.SSLError as exc:
        return {"address": address, "found": False, "error": "no TLS on %s (%s)" % (address, exc.reason or exc)}
    except OSError as exc:
        return {"address": address, "found": False, "error": "%s: %s" % (address, exc.strerror or exc)}
    if not der:
        return {"address": address, "found": False, "error": "%s sent no certificate" % address}
    try:
        return dict(certificate_entry(der, now), address=address)
    except ValueError as exc:
        return {"address": address, "found": False, "error": "the certificate of %s not read: %s" % (address, exc)}


def parse_system_df(text):
    """Rows of `docker system df --format '{{json .}}'`: type, count, active, size, reclaimable (as Docker shows them)."""
    rows = []
    for line in text.splitlines():
        if not line.strip():
            continue
        item = json.loads(line)
        rows.append({"type": item.get("Type", ""), "count": int(item.get("TotalCount") or 0),
                     "active": int(item.get("Active") or 0), "size": item.get("Size", ""),
                     "reclaimable": item.get("Reclaimable", "")})
    return rows


def read_docker_disk(engine_active, engine_service):
    if not engine_active:
        return {"rows": [], "error": "the Docker engine (%s) is not active" % engine_service}
    rc, out, err = run(["docker", "system", "df", "--format", "{{json .}}"], timeout=60)
    if rc != 0:
        return {"rows": [], "error": "docker system df: %s" % (err.strip() or "exited %d" % rc)}
    try:
        return {"rows": parse_system_df(out), "error": ""}
    except ValueError:
        return {"rows": [], "error": "docker system df printed no JSON"}


def parse_failed_units(text):
    """Unit names of `systemctl list-units --failed --plain --no-legend`."""
    return [line.split()[0] for line in text.splitlines() if line.strip()]


def read_failed_units():
    rc, out, err = run(["systemctl", "list-units", "--failed", "--all", "--plain", "--no-legend", "--no-pager"])
    if rc != 0:
        return {"units": [], "error": "systemctl list-units: %s" % (err.strip() or "exited %d" % rc)}
    return {"units": parse_failed_units(out), "error": ""}


def parse_ufw_status(text):
    """active, inactive, or '' from the first line of `ufw status`."""
    found = re.search(r"^Status:\s*(\w+)", text, re.MULTILINE)
    return found.group(1) if found else ""


def parse_ufw_added(text):
    """The user rules `ufw show added` lists (one `ufw ...` line each, whether ufw is active or not)."""
    return [line.strip() for line in text.splitlines() if line.startswith("ufw ")]


def read_ufw():
    ufw = shutil.which("ufw", path=SBIN_PATH)
    if not ufw:
        return {"state": "", "rules": None, "error": "ufw is not installed"}
    rc, out, err = run([ufw, "status"])
    state = parse_ufw_status(out) if rc == 0 else ""
    if not state:
        return {"state": "", "rules": None, "error": "ufw status: %s" % (err.strip() or out.strip() or "exited %d" % rc)}
    rc, out, err = run([ufw, "show", "added"])
    rules = len(parse_ufw_added(out)) if rc == 0 else None
    return {"state": state, "rules": rules,
            "error": "" if rc == 0 else "ufw show added: %s" % (err.strip() or "exited %d" % rc)}


def read_backup(backup_dir, now):
    """The newest file under backup_dir (hidden files, like a dump still being written, left out) and its age."""
    try:
        os.listdir(backup_dir)
    except OSError as exc:
        return {"dir": backup_dir, "error": unreadable(exc, backup_dir, "no backup directory %s" % backup_dir)}
    newest, count, walk_errors = None, 0, []
    for folder, subfolders, files in os.walk(backup_dir, onerror=walk_errors.append):
        subfolders[:] = sorted(name for name in subfolders if not name.startswith("."))
        for name in files:
            path = os.path.join(folder, name)
            if name.startswith(".") or not os.path.isfile(path):
                continue
            stat = os.stat(path)
            count += 1
            if newest is None or stat.st_mtime > newest[1].st_mtime:
                newest = (path, stat)
    if newest is None:
        why = "%s not readable" % backup_dir if walk_errors else "no backup in %s" % backup_dir
        return {"dir": backup_dir, "error": why}
    path, stat = newest
    return {"dir": backup_dir, "file": os.path.relpath(path, backup_dir), "size": stat.st_size,
            "time": iso(stat.st_mtime), "age": max(0, int(now - stat.st_mtime)), "files": count, "error": ""}


def epoch_of(text):
    """Seconds since the epoch of a time as the runbook writes them (2026-11-29T12:04:36Z); None otherwise."""
    try:
        return datetime.strptime(str(text), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp()
    except ValueError:
        return None


def read_lock(state_dir, stale_after, now):
    """The run lock as runbook_lock leaves it: run.lock/ with owner (JSON) and heartbeat, on the host's clock."""
    lock = os.path.join(state_dir, LOCK_DIR)
    try:
        os.stat(lock)
    except OSError as exc:
        why = unreadable(exc, lock, "")
        return {"held": False, "error": why} if why else {"held": False, "error": ""}
    owner = {}
    try:
        with open(os.path.join(lock, "owner"), encoding="utf-8") as f:
            owner = json.load(f)
    except (OSError, ValueError):
        pass
    owner = owner if isinstance(owner, dict) else {}
    newest = 0.0
    for path in (lock, os.path.join(lock, "owner"), os.path.join(lock, "heartbeat")):
        try:
            newest = max(newest, os.stat(path).st_mtime)
        except OSError:
            continue
    heartbeat_age = max(0, int(now - newest))
    started = str(owner.get("started") or "")
    return {"held": True, "owner": str(owner.get("owner") or ""), "scenario": str(owner.get("scenario") or ""),
            "started": started, "started_epoch": epoch_of(started), "heartbeat_age": heartbeat_age,
            "stale": heartbeat_age > stale_after, "error": ""}


def last_release(entries, state_dir, ledger_error, now):
    if ledger_error:
        return {"error": ledger_error}
    if not entries:
        return {"error": "the release ledger %s holds no release" % os.path.join(state_dir, "releases.jsonl")}
    entry = entries[-1]
    epoch = entry.get("epoch") if isinstance(entry.get("epoch"), int) else epoch_of(entry.get("time"))
    return {"commit": str(entry["commit"]), "time": str(entry.get("time") or ""), "scenario": str(entry.get("scenario") or ""),
            "age": None if epoch is None else max(0, int(now - epoch)), "error": ""}


def read_guide(p, pool, engine_active, ledger):
    """Start the network probes in the pool, read the local items; returns a function that waits for the rest."""
    now = time.time()
    health = pool.submit(read_health, p["health_url"], p["health_timeout"], p["validate_certs"])
    db_health = pool.submit(read_health, p["db_health_url"], p["health_timeout"], p["validate_certs"])
    domain = p["domain"]
    served = pool.submit(read_served_certificate, p["https_host"], p["https_port"], domain, p["tls_timeout"], now)
    if domain:
        lineage = read_certificate_file(os.path.join(p["cert_live_dir"], domain, "cert.pem"), now)
    else:
        lineage = {"path": "", "found": False, "error": "no domain given"}
    guide = {
        "docker_disk": read_docker_disk(engine_active, p["engine_service"]),
        "failed_units": read_failed_units(),
        "firewall": read_ufw(),
        "backup": read_backup(p["backup_dir"], now),
        "lock": read_lock(p["state_dir"], p["lock_stale_after"], now),
        "last_release": last_release(ledger[1], p["state_dir"], ledger[0], now),
    }

    def finish():
        file_cert, served_cert = lineage, served.result()
        same = bool(file_cert.get("found") and served_cert.get("found")
                    and file_cert.get("serial") == served_cert.get("serial"))
        guide.update(health=health.result(), db_health=db_health.result(),
                     certificate={"domain": domain, "file": file_cert, "served": served_cert, "same": same})
        return guide

    return finish


def diagnose(p, pool=None):
    notes = []
    names = [p["engine_service"]] + [name for name in p["services"] if name != p["engine_service"]]
    services = read_units(names, notes)
    engine_active = any(unit["name"] == p["engine_service"] and unit["state"] == "active" for unit in services)
    ledger = read_ledger(p["state_dir"])
    # The guide's network probes (health URLs, the served certificate) run while the rest is read.
    finish_guide = read_guide(p, pool, engine_active, ledger) if p["guide"] and pool is not None else None
    containers = []
    if engine_active:
        containers = read_containers(p["compose_dir"], notes)
    else:
        notes.append("Docker engine (%s) not active: containers and their logs not read" % p["engine_service"])

    rc, out, err = run(["df", "-P", "-k", "-T"])
    # df exits 1 when one mount cannot be read (a stale network mount) but still lists the others.
    disk = [row for row in parse_df(out) if os.path.isdir(row["mount"])]
    if rc != 0:
        notes.append("df: %s" % err.strip())

    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            memory = parse_meminfo(f.read())
    except OSError as exc:
        memory = parse_meminfo("")
        notes.append("memory not read: %s" % exc)

    processes = read_processes(notes)

    log_errors, log_sources, log_unread = {}, {}, {}
    for service in p["log_services"]:
        log_errors[service] = []
        matching = [row for row in containers if row["service"] == service]
        if not matching:
            log_unread[service] = "no container of the service" if engine_active else "the Docker engine is not active"
            continue
        latest = max(matching, key=lambda row: row["since_epoch"] or 0)
        found, error = read_container_errors(latest["id"], p["log_lines"], p["error_pattern"], p["error_lines"])
        if found is None:
            log_unread[service] = "docker logs %s: %s" % (latest["name"], error)
        else:
            log_errors[service] = found
            log_sources[service] = "last %d log lines of %s" % (p["log_lines"], latest["name"])
    name = p["proxy_name"]
    log_errors[name] = []
    try:
        log_errors[name] = error_lines(tail_file(p["proxy_error_log"], p["log_lines"]), p["error_pattern"],
                                       p["error_lines"])
        log_sources[name] = "last %d lines of %s" % (p["log_lines"], p["proxy_error_log"])
    except OSError as exc:
        log_unread[name] = "%s: %s" % (p["proxy_error_log"], exc.strerror or exc)

    found = {
        "now": iso(time.time()),
        "now_epoch": int(time.time()),
        "services": services,
        "containers": containers,
        "disk": disk,
        "memory": memory,
        "top_cpu": top(processes, "cpu", p["top"]),
        "top_mem": top(processes, "mem", p["top"]),
        "log_errors": log_errors,
        "log_sources": log_sources,
        "log_unread": log_unread,
        "releases": ledger[1][-p["releases"]:] if p["releases"] > 0 else [],
        "notes": notes,
    }
    if finish_guide is not None:
        found["guide"] = finish_guide()
    return found


def main():
    module = AnsibleModule(
        argument_spec=dict(
            compose_dir=dict(type="path", required=True),
            engine_service=dict(type="str", default="docker"),
            services=dict(type="list", elements="str", default=[]),
            log_services=dict(type="list", elements="str", default=["api"]),
            proxy_name=dict(type="str", default="nginx"),
            proxy_error_log=dict(type="path", default="/var/log/nginx/error.log"),
            log_lines=dict(type="int", default=500),
            error_pattern=dict(type="str", default=ERROR_PATTERN),
            error_lines=dict(type="int", default=20),
            top=dict(type="int", default=5),
            state_dir=dict(type="path", default="/var/lib/runbook"),
            releases=dict(type="int", default=5),
            guide=dict(type="bool", default=False),
            health_url=dict(type="str", default=""),
            db_health_url=dict(type="str", default=""),
            health_timeout=dict(type="float", default=5.0),
            validate_certs=dict(type="bool", default=True),
            domain=dict(type="str", default=""),
            cert_live_dir=dict(type="path", default="/etc/letsencrypt/live"),
            https_host=dict(type="str", default="127.0.0.1"),
            https_port=dict(type="int", default=443),
            tls_timeout=dict(type="float", default=3.0),
            backup_dir=dict(type="path", default="/root/backups"),
            lock_stale_after=dict(type="int", default=60),
        ),
        supports_check_mode=True,
    )
    try:
        re.compile(module.params["error_pattern"])
    except re.error as exc:
        module.fail_json(msg="runbook_diagnose: error_pattern is not a regular expression: %s" % exc)
    with ThreadPoolExecutor(max_workers=3) as pool:
        found = diagnose(module.params, pool)
    module.exit_json(changed=False, **found)


if __name__ == "__main__":
    main()
