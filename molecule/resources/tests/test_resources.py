# SPDX-License-Identifier: GPL-3.0-or-later
"""After relieving a host whose api container ran a memory-hungry and a
CPU-hungry process: the api container was restarted (its start time moved, the
hungry processes are gone), the worker untouched, the app healthy."""

import pytest


def started_before(host) -> dict[str, str]:
    text = host.file("/root/resources-started.txt").content_string
    return dict(line.split(" ", 1) for line in text.splitlines() if line.strip())


def started_now(app, service: str) -> str:
    return app.host.check_output("docker inspect -f '{{.State.StartedAt}}' %s", app.container_id(service))


def test_the_api_container_was_restarted(host, app):
    assert started_now(app, "api") != started_before(host)["api"]


def test_the_hungry_processes_are_gone(host, app):
    processes = host.check_output("docker top %s -eo pid,args", app.container_id("api"))
    assert "python3 -c" not in processes


def test_the_worker_was_not_touched(host, app):
    assert started_now(app, "worker") == started_before(host)["worker"]


@pytest.mark.parametrize("service", ["api", "worker"])
def test_both_services_run(app, service):
    assert app.container(service)[0] == "running"


def test_health_answers_200(app):
    assert app.health()[0] == "200"
