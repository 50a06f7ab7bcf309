# SPDX-License-Identifier: GPL-3.0-or-later
"""After payments off then on: the api takes payments again (its real webhook
answer and its container's environment), .env says so with its mode kept, and
each switch left a snapshot of .env as it was before, with safe modes."""

import json


def _env_file(host, app) -> str:
    return host.ansible.get_variables().get("app_env_file", app.compose_dir + "/.env")


def test_webhook_takes_events_again(host):
    out = host.check_output(
        "curl -s -w ' %%{http_code}' --max-time 5 -X POST -H 'Content-Type: application/json' "
        "-d '{\"type\": \"verify.test\"}' %s", "http://localhost:3000/webhooks/stripe")
    body, status = out.rsplit(" ", 1)
    assert status == "200"
    assert json.loads(body) == {"received": True}


def test_api_container_runs_with_payments_on(host, app):
    cid = app.container_id("api")
    env = host.check_output(
        "docker inspect -f '{{range .Config.Env}}{{println .}}{{end}}' %s | grep '^ENABLE_STRIPE_PAYMENTS='", cid)
    assert env == "ENABLE_STRIPE_PAYMENTS=true"


def test_env_line_on_and_mode_kept(host, app):
    env = host.file(_env_file(host, app))
    assert env.mode == 0o600
    assert host.check_output("grep -c '^ENABLE_STRIPE_PAYMENTS=' %s", env.path) == "1"
    assert host.check_output("grep '^ENABLE_STRIPE_PAYMENTS=' %s", env.path) == "ENABLE_STRIPE_PAYMENTS=true"


def test_one_snapshot_per_switch_with_the_line_before(host, app):
    snapshots = host.file(app.state_dir + "/snapshots")
    assert snapshots.is_directory and snapshots.mode == 0o700
    names = sorted(name for name in snapshots.listdir() if name.endswith("-env"))
    assert len(names) == 2, names  # off, then on; the repeats and --check took none
    before = []
    for name in names:
        assert host.file(snapshots.path + "/" + name).mode == 0o700
        copy = host.file(snapshots.path + "/" + name + "/.env")
        assert copy.mode == 0o600
        before.append(host.check_output("grep '^ENABLE_STRIPE_PAYMENTS=' %s", copy.path))
    assert before == ["ENABLE_STRIPE_PAYMENTS=true", "ENABLE_STRIPE_PAYMENTS=false"]


def test_app_healthy(app):
    assert app.health()[0] == "200"


def test_the_other_layout_s_runs_switched_its_own_variable_with_their_own_state(host):
    # converge's second half: PAYMENTS_ENABLED switched off, on, off (the last one contradicted by /health),
    # each with a snapshot under the runbook_state_dir it was given; the fixture's .env is back.
    snapshots = host.file("/var/lib/runbook-variant/snapshots")
    names = sorted(name for name in snapshots.listdir() if name.endswith("-env"))
    lines = [host.check_output("grep '^PAYMENTS_ENABLED=' %s", snapshots.path + "/" + name + "/.env") for name in names]
    assert lines == ["PAYMENTS_ENABLED=true", "PAYMENTS_ENABLED=false", "PAYMENTS_ENABLED=true"]


def _env_writes(host, state_dir: str) -> list[dict]:
    notes = host.file(state_dir + "/env-writes.jsonl")
    assert notes.mode == 0o600
    return [json.loads(line) for line in notes.content_string.splitlines()]


def test_each_switch_that_wrote_env_noted_its_sha256_under_its_own_state_dir(host, app):
    # off, then on (the repeats and --check wrote nothing); the other layout's three under its own state dir
    env = _env_file(host, app)
    writes = _env_writes(host, app.state_dir)
    assert [(write["path"], write["scenario"]) for write in writes] == [(env, "payments")] * 2
    assert len({write["sha256"] for write in writes}) == 2
    assert [write["scenario"] for write in _env_writes(host, "/var/lib/runbook-variant")] == ["payments"] * 3
