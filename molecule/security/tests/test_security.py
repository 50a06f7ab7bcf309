# SPDX-License-Identifier: GPL-3.0-or-later
"""After lockdown then unlock: the app is healthy with the rotated secret, the
evidence bundle is root-only and holds no .env value, the lockdown is forgotten."""


def test_health_answers_200(app):
    assert app.http_status(app.health_url) == "200"


def test_evidence_bundle_root_only(host):
    bundles = host.check_output("ls -d /var/lib/runbook/evidence/*/").split()
    assert len(bundles) == 1
    assert host.file(bundles[0]).mode == 0o700
    files = host.check_output("find %s -type f", bundles[0]).split()
    assert {f.rsplit("/", 1)[1] for f in files} >= {"env-permissions.txt", "containers.txt", "listening-ports.txt"}
    assert all(host.file(f).mode == 0o600 and host.file(f).user == "root" for f in files)


def test_evidence_holds_no_env_value(host, app):
    # The values stay on the host: only the count and the matching file names come back.
    out = host.check_output(
        "sed -n 's/^[A-Z_]*=//p' %s/.env | awk 'length >= 12' > /tmp/hsec-values; "
        "wc -l < /tmp/hsec-values; grep -rlF -f /tmp/hsec-values /var/lib/runbook/evidence; rm -f /tmp/hsec-values; true",
        app.compose_dir)
    count, *leaked = out.split()
    assert int(count) >= 3
    assert leaked == []


def test_lockdown_forgotten(host):
    assert not host.file("/var/lib/runbook/firewall-lockdown.current").exists
