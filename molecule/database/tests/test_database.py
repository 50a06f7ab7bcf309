# SPDX-License-Identifier: GPL-3.0-or-later
"""After the database came back: the api was restarted once (its broken pool
reset), both health endpoints answer 200, and Postgres runs."""

import json


def test_db_health_answers_200(host):
    out = host.check_output("curl -s -w ' %%{http_code}' --max-time 5 %s", "http://localhost:3000/api/health/db")
    body, status = out.rsplit(" ", 1)
    assert status == "200"
    assert json.loads(body) == {"database": "ok", "detail": "ok"}


def test_health_answers_200(app):
    assert app.health()[0] == "200"


def test_api_was_restarted_after_prepare(host, app):
    prepared = host.file("/root/molecule-api-started").content_string.strip()
    started = host.check_output("docker inspect -f '{{.State.StartedAt}}' %s", app.container_id("api"))
    assert prepared and started != prepared


def test_postgres_runs(host):
    assert host.service("postgresql").is_running
