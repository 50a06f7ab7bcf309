# SPDX-License-Identifier: GPL-3.0-or-later
"""The prevention checklist's alert script (roles/prevention_alerts), rendered
from its template and run here: alerts reach a real local webhook as JSON, the
health alert fires only after N failures in a row and resets on success,
without a webhook the alert goes to `logger -t runbook-alert`, and
`runbook-alert certificate` alerts on a lineage or a served certificate (read
by a real TLS handshake with SNI) with fewer days left than the threshold."""

from __future__ import annotations

import datetime
import json
import os
import socket
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import jinja2
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

TEMPLATE = Path(__file__).resolve().parent.parent / "roles/prevention_alerts/templates/runbook-alert.py.j2"


class Receiver(BaseHTTPRequestHandler):
    posts: list[dict] = []
    healthy = True

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Receiver.posts.append(json.loads(body))
        self.send_response(200)
        self.end_headers()

    def do_GET(self) -> None:  # noqa: N802
        self.send_response(200 if Receiver.healthy else 503)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def receiver() -> Iterator[str]:
    Receiver.posts = []
    Receiver.healthy = True
    server = HTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture()
def script(tmp_path: Path) -> Path:
    text = jinja2.Template(TEMPLATE.read_text()).render(
        ansible_managed="test", prevention_alerts_env_file=str(tmp_path / "alert.env"),
        prevention_alerts_cert_env_file=str(tmp_path / "alert-certificate.env"),
        prevention_alerts_state_dir=str(tmp_path / "state"))
    path = tmp_path / "runbook-alert"
    path.write_text(text)
    return path


def run(script: Path, *args: str, **env: str) -> None:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("RUNBOOK_ALERT_")}
    subprocess.run([sys.executable, str(script), *args], env={**clean, **env}, check=True, timeout=30)


def test_a_lowered_disk_threshold_posts_to_the_webhook(script: Path, receiver: str) -> None:
    run(script, RUNBOOK_ALERT_URL=receiver + "/hook", RUNBOOK_ALERT_DISK_PERCENT="1")
    assert len(Receiver.posts) == 1
    assert "disk / is" in Receiver.posts[0]["text"] and "(alert at 1%)" in Receiver.posts[0]["text"]


def test_settings_come_from_the_env_file(script: Path, receiver: str, tmp_path: Path) -> None:
    (tmp_path / "alert.env").write_text(f"# settings\nRUNBOOK_ALERT_URL={receiver}/hook\nRUNBOOK_ALERT_DISK_PERCENT=1\n")
    run(script)
    assert len(Receiver.posts) == 1


def test_a_high_threshold_and_a_healthy_url_stay_quiet(script: Path, receiver: str) -> None:
    run(script, RUNBOOK_ALERT_URL=receiver + "/hook", RUNBOOK_ALERT_DISK_PERCENT="100",
        RUNBOOK_ALERT_HEALTH_URL=receiver + "/health", RUNBOOK_ALERT_HEALTH_FAILURES="1")
    assert Receiver.posts == []


def test_the_health_alert_fires_after_n_failures_in_a_row(script: Path, receiver: str) -> None:
    env = {"RUNBOOK_ALERT_URL": receiver + "/hook", "RUNBOOK_ALERT_DISK_PERCENT": "100",
           "RUNBOOK_ALERT_HEALTH_URL": receiver + "/health", "RUNBOOK_ALERT_HEALTH_FAILURES": "2"}
    Receiver.healthy = False
    run(script, **env)
    assert Receiver.posts == []
    run(script, **env)
    assert [p["text"].split(": ", 1)[1] for p in Receiver.posts] == [f"health {receiver}/health failed 2 times in a row"]
    Receiver.healthy = True
    run(script, **env)
    Receiver.healthy = False
    run(script, **env)
    assert len(Receiver.posts) == 1  # the success reset the count


def test_without_a_webhook_the_alert_goes_to_logger(script: Path, tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    record = tmp_path / "logger-args"
    (bin_dir / "logger").write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > {record}\n')
    (bin_dir / "logger").chmod(0o755)
    run(script, PATH=f"{bin_dir}:{os.environ['PATH']}", RUNBOOK_ALERT_DISK_PERCENT="1")
    args = record.read_text().splitlines()
    assert args[:2] == ["-t", "runbook-alert"]
    assert "disk / is" in args[-1]


DOMAIN = "api.example.test"


def write_certificate(directory: Path, name: str, days_left: float) -> tuple[Path, Path]:
    """A self-signed certificate for DOMAIN that expires days_left from now (negative: expired); PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, DOMAIN)])
    certificate = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - datetime.timedelta(days=400))
                   .not_valid_after(now + datetime.timedelta(days=days_left))
                   .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / f"{name}.pem", directory / f"{name}.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@pytest.fixture()
def tls_server(tmp_path: Path) -> Iterator[tuple[str, list[str]]]:
    """A TLS server on 127.0.0.1 serving a certificate with 5.5 days left; yields host:port and the SNI names seen."""
    cert_path, key_path = write_certificate(tmp_path, "served", 5.5)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    names: list[str] = []
    context.sni_callback = lambda _sock, name, _ctx: names.append(name)  # type: ignore[assignment]
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(10)

    def serve() -> None:
        try:
            conn, _ = listener.accept()
            with context.wrap_socket(conn, server_side=True) as tls:
                tls.recv(1)
        except OSError:
            pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"127.0.0.1:{listener.getsockname()[1]}", names
    listener.close()
    thread.join(timeout=10)


def cert_env(receiver: str, lineage: Path | str, served: str = "", days: int = 30) -> dict[str, str]:
    return {"RUNBOOK_ALERT_URL": receiver + "/hook", "RUNBOOK_ALERT_CERT_DOMAIN": DOMAIN,
            "RUNBOOK_ALERT_CERT_FILE": str(lineage), "RUNBOOK_ALERT_CERT_SERVED": served,
            "RUNBOOK_ALERT_CERT_DAYS": str(days)}


def alert_texts() -> list[str]:
    return [p["text"].split(": ", 1)[1] for p in Receiver.posts]


def test_a_lineage_with_days_to_spare_stays_quiet_until_the_threshold_is_raised(
        script: Path, receiver: str, tmp_path: Path) -> None:
    lineage, _ = write_certificate(tmp_path, "lineage", 90.5)
    run(script, "certificate", **cert_env(receiver, lineage))
    assert Receiver.posts == []
    run(script, "certificate", **cert_env(receiver, lineage, days=400))
    assert alert_texts() == [f"certificate for {DOMAIN} expires in 90 days (lineage {lineage}: 90 days; alert at 400 days)"]


def test_an_expired_lineage_alerts(script: Path, receiver: str, tmp_path: Path) -> None:
    lineage, _ = write_certificate(tmp_path, "lineage", -59.5)
    run(script, "certificate", **cert_env(receiver, lineage))
    assert alert_texts() == [f"certificate for {DOMAIN} expired 60 days ago (lineage {lineage}: -60 days; alert at 30 days)"]


def test_the_served_certificate_counts_and_is_asked_for_by_name(
        script: Path, receiver: str, tmp_path: Path, tls_server: tuple[str, list[str]]) -> None:
    address, names = tls_server
    lineage, _ = write_certificate(tmp_path, "lineage", 90.5)
    run(script, "certificate", **cert_env(receiver, lineage, served=address))
    assert names == [DOMAIN]
    assert alert_texts() == [f"certificate for {DOMAIN} expires in 5 days "
                             f"(lineage {lineage}: 90 days, served on {address}: 5 days; alert at 30 days)"]


def test_settings_come_from_the_certificate_env_file(script: Path, receiver: str, tmp_path: Path) -> None:
    lineage, _ = write_certificate(tmp_path, "lineage", 10.5)
    (tmp_path / "alert-certificate.env").write_text(
        "".join(f"{k}={v}\n" for k, v in cert_env(receiver, lineage).items()))
    (tmp_path / "alert.env").write_text(f"RUNBOOK_ALERT_URL={receiver}/other\nRUNBOOK_ALERT_DISK_PERCENT=1\n")
    run(script, "certificate")
    assert alert_texts() == [f"certificate for {DOMAIN} expires in 10 days (lineage {lineage}: 10 days; alert at 30 days)"]


def test_no_certificate_at_all_alerts(script: Path, receiver: str, tmp_path: Path) -> None:
    closed = socket.create_server(("127.0.0.1", 0))
    address = f"127.0.0.1:{closed.getsockname()[1]}"
    closed.close()
    run(script, "certificate", **cert_env(receiver, tmp_path / "missing.pem", served=address))
    assert alert_texts() == [f"certificate for {DOMAIN}: no lineage at {tmp_path / 'missing.pem'} "
                             f"and none served on {address}"]


def test_an_unknown_mode_is_refused(script: Path) -> None:
    result = subprocess.run([sys.executable, str(script), "certs"], capture_output=True, text=True, timeout=30)
    assert result.returncode != 0
    assert "usage: runbook-alert [certificate]" in result.stderr
