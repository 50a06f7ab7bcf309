# SPDX-License-Identifier: GPL-3.0-or-later
"""The nginx plugin was broken: the standalone path renewed the expired
certificate, nginx runs again and serves it, and the lineage's renewal config
frees port 80 the same way for automatic renewals."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "shared" / "tests"))

import certificate  # noqa: E402

DOMAIN = "api.echoelmusic.com"


def test_nginx_running_and_serving_the_renewed_certificate(host):
    assert host.service("nginx").is_running
    served = certificate.served(host, DOMAIN)
    assert "Pebble" in served.issuer, served
    assert certificate.days_left(host, served) > 30, served
    assert served.serial == certificate.lineage(host, DOMAIN).serial


def test_renewed_by_the_standalone_authenticator_with_nginx_hooks(host):
    conf = host.file(f"/etc/letsencrypt/renewal/{DOMAIN}.conf").content_string
    assert "authenticator = standalone" in conf
    assert "pre_hook = systemctl stop nginx" in conf
    assert "post_hook = systemctl start nginx" in conf


def test_no_guard_left_behind(host):
    """Each fallback disarmed its guard, and the guard of the killed run fired and went away."""
    units = host.check_output("systemctl list-units --all --no-legend --plain 'runbook-certbot-nginx-guard-*'")
    assert units == "", units
