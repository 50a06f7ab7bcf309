# SPDX-License-Identifier: GPL-3.0-or-later
"""nginx served an old certificate while the lineage held a renewed one: a
reload alone fixed it, and the lineage was not renewed again."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "shared" / "tests"))

import certificate  # noqa: E402

DOMAIN = "api.echoelmusic.com"


def test_nginx_serves_the_lineage_certificate(host):
    served = certificate.served(host, DOMAIN)
    assert served.serial == certificate.lineage(host, DOMAIN).serial
    assert "Pebble" in served.issuer, served
    assert certificate.days_left(host, served) > 30, served


def test_no_renewal_beyond_the_fixture_ones(host):
    # The fixture issued cert1 and renewed it once (cert2); a reload adds none.
    archive = f"/etc/letsencrypt/archive/{DOMAIN}"
    assert host.file(f"{archive}/cert2.pem").exists
    assert not host.file(f"{archive}/cert3.pem").exists
