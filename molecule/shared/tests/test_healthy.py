# SPDX-License-Identifier: GPL-3.0-or-later
"""The host serves again: health answers 200 directly and through nginx, and
every service of the stack, the Docker engine and nginx are running."""

import json

import pytest


@pytest.mark.parametrize("unit", ["docker", "nginx"])
def test_unit_running(host, unit):
    assert host.service(unit).is_running


def test_health_answers_200(app):
    assert app.http_status(app.health_url) == "200"


def test_health_through_nginx(app):
    assert app.http_status("http://127.0.0.1/health") == "200"


def test_every_stack_service_running(host, app):
    out = host.check_output("cd %s && docker compose ps --all --format json", app.compose_dir)
    rows = [json.loads(line) for line in out.splitlines() if line.strip()]
    states = {row["Service"]: row["State"] for row in rows}
    assert set(states) == {"api", "worker"}, states
    assert all(state == "running" for state in states.values()), states
