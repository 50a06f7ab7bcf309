# SPDX-License-Identifier: GPL-3.0-or-later
"""After lockdown then unlock: the app is healthy with the rotated secret, the
evidence bundle is root-only and holds no .env value, the lockdown is forgotten.
The bundle keeps each stopped container's logs, inspect and diff, and the auth
log has OpenSSH 10's sshd-session lines."""

import json


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


def _bundle(host):
    (bundle,) = host.check_output("ls -d /var/lib/runbook/evidence/*/").split()
    return bundle.rstrip("/")


def test_evidence_keeps_each_containers_logs_inspect_and_diff_taken_while_stopped(host):
    # The stack was stopped, not removed: each container's logs and state are in the bundle.
    bundle = _bundle(host)
    names = host.check_output("ls %s/containers", bundle).split()
    api = [name[:-len(".log")] for name in names if name.endswith(".log") and "api" in name]
    assert len(api) == 1, names
    assert {f"{api[0]}.log", f"{api[0]}.inspect.json", f"{api[0]}.diff.txt"} <= set(names)
    assert host.file(f"{bundle}/containers/{api[0]}.log").size > 0
    (inspect,) = json.loads(host.file(f"{bundle}/containers/{api[0]}.inspect.json").content_string)
    assert inspect["State"]["Running"] is False and inspect["State"]["Status"] == "exited"
    # The environment's names are kept, never its values.
    env = inspect["Config"]["Env"]
    assert "JWT_SECRET=REDACTED" in env and all(entry.endswith("=REDACTED") for entry in env)


def test_evidence_auth_log_has_opensshs_sshd_session_lines(host):
    # prepare tried an SSH login from the client; OpenSSH 10 logs it from sshd-session.
    auth = host.file(f"{_bundle(host)}/auth.log").content_string
    assert "sshd-session" in auth and "10.99.0.2" in auth


def test_the_rotation_noted_the_sha256_of_the_env_it_wrote_for_the_diagnosis(host, app):
    # one rotation (the lockdown's), noted with the file's digest: the diagnosis explains that change
    env = host.ansible.get_variables().get("app_env_file", app.compose_dir + "/.env")
    notes = host.file(app.state_dir + "/env-writes.jsonl")
    assert notes.mode == 0o600
    writes = [json.loads(line) for line in notes.content_string.splitlines()]
    assert [(write["path"], write["scenario"]) for write in writes] == [(env, "security")]
    assert writes[0]["sha256"] == host.check_output("sha256sum %s", env).split()[0]
