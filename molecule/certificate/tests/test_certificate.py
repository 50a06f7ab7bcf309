# SPDX-License-Identifier: GPL-3.0-or-later
"""The expired certificate was renewed by pebble and nginx serves the new one."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "shared" / "tests"))

import certificate  # noqa: E402

DOMAIN = "api.echoelmusic.com"


def test_nginx_serves_a_renewed_certificate_with_many_days_left(host):
    served = certificate.served(host, DOMAIN)
    assert certificate.days_left(host, served) > 30, served
    assert "Pebble" in served.issuer, served  # issued by the ACME server, not the expired self-signed one


def test_nginx_serves_the_lineage_certificate(host):
    assert certificate.served(host, DOMAIN).serial == certificate.lineage(host, DOMAIN).serial


def test_nginx_running_and_automatic_renewal_on(host):
    assert host.service("nginx").is_running
    assert host.service("certbot.timer").is_enabled
    assert host.service("certbot.timer").is_running
