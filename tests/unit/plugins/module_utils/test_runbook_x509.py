# SPDX-License-Identifier: GPL-3.0-or-later
"""module_utils/runbook_x509: days left and openssl's answer."""

from __future__ import annotations

from ansible_collections.runbook.ops.plugins.module_utils.runbook_x509 import days_left, first_pem_certificate, parse_openssl_x509


def test_days_left_is_the_floor_and_negative_once_expired():
    assert days_left(10 * 86400, 0) == 10
    assert days_left(10 * 86400, 0.5 * 86400) == 9
    assert days_left(0, 3600) == -1


def test_openssl_output():
    end, serial = parse_openssl_x509("notAfter=Feb 27 15:00:29 2027 GMT\nserial=0A1B2C\n")
    assert (end, serial) == (1803740429.0, "A1B2C")


def test_the_first_pem_certificate():
    pem = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----"
    assert first_pem_certificate("junk\n" + pem + "\n" + pem.replace("AAAA", "BBBB")) == pem
    assert first_pem_certificate("no certificate") == ""
