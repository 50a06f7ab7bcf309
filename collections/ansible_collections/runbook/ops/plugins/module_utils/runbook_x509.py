# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""A certificate's end date, serial and days left: python3-cryptography when the host has it, else `openssl x509`."""

from __future__ import annotations

import math
import re
from datetime import datetime, timezone

from ansible_collections.runbook.ops.plugins.module_utils.runbook_times import iso

PEM_CERTIFICATE = re.compile(r"-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]+-----END CERTIFICATE-----")
DAY = 86400


def days_left(not_after, now):
    """Whole days until not_after (epoch seconds): the floor, negative once it has expired."""
    return math.floor((not_after - now) / DAY)


def parse_openssl_x509(text):
    """(notAfter epoch, serial hex) from `openssl x509 -noout -enddate -serial`."""
    fields = dict(line.split("=", 1) for line in text.splitlines() if "=" in line)
    not_after = datetime.strptime(fields["notAfter"].strip(), "%b %d %H:%M:%S %Y GMT")
    return not_after.replace(tzinfo=timezone.utc).timestamp(), "%X" % int(fields["serial"].strip(), 16)


def first_pem_certificate(text):
    """The first PEM certificate in a text (a lineage's cert.pem or fullchain.pem), or ''."""
    found = PEM_CERTIFICATE.search(text)
    return found.group(0) if found else ""


def certificate_facts(der, commands):
    """(notAfter epoch, serial hex) of a DER certificate; ValueError when it cannot be read here.
    commands: a runbook_command.Commands (openssl when python3-cryptography is missing)."""
    try:
        from cryptography import x509  # pylint: disable=import-outside-toplevel
    except ImportError:
        x509 = None
    if x509 is not None:
        cert = x509.load_der_x509_certificate(der)
        not_after = getattr(cert, "not_valid_after_utc", None) or cert.not_valid_after.replace(tzinfo=timezone.utc)
        return not_after.timestamp(), "%X" % cert.serial_number
    openssl = commands.which("openssl")
    if not openssl:
        raise ValueError("neither python3-cryptography nor openssl on the host")
    rc, out, err = commands.run([openssl, "x509", "-inform", "DER", "-noout", "-enddate", "-serial"], timeout=10,
                                data=der)
    if rc != 0:
        raise ValueError("openssl x509: %s" % (err.strip() or "exited %d" % rc))
    try:
        return parse_openssl_x509(out)
    except (KeyError, ValueError) as exc:
        raise ValueError("openssl x509 printed no end date and serial") from exc


def certificate_entry(der, now, commands):
    """What is shown of a certificate: end date, whole days left (floor, negative once expired), serial."""
    not_after, serial = certificate_facts(der, commands)
    return {"found": True, "not_after": iso(not_after), "days_left": days_left(not_after, now),
            "serial": serial, "error": ""}
