# SPDX-License-Identifier: GPL-3.0-or-later
"""The certificate nginx serves for app_domain, read over TLS on the host
itself (SNI), next to the certbot lineage's, for the certificate scenarios."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Cert:
    serial: str
    not_after_epoch: int
    issuer: str


def _parse(host, pem_command: str) -> Cert:
    out = host.check_output(pem_command + " | openssl x509 -noout -serial -enddate -issuer -dateopt iso_8601")
    fields = dict(line.split("=", 1) for line in out.splitlines())
    epoch = int(host.check_output("date -u -d %s +%%s", fields["notAfter"]))
    return Cert(serial=fields["serial"], not_after_epoch=epoch, issuer=fields["issuer"])


def served(host, domain: str) -> Cert:
    return _parse(host, f"echo | openssl s_client -connect 127.0.0.1:443 -servername {domain} 2>/dev/null")


def lineage(host, domain: str) -> Cert:
    return _parse(host, f"cat /etc/letsencrypt/live/{domain}/cert.pem")


def days_left(host, cert: Cert) -> float:
    return (cert.not_after_epoch - int(host.check_output("date -u +%s"))) / 86400
