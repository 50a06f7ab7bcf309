"""The host serves again: health answers 200 directly and through nginx, and
every service of the stack, the Docker engine and nginx are running."""

import json

import pytest


def _vars(host):
    v = host.ansible.get_variables()
    repo = v.get("app_repo_dir", "/root/echoelmusic")
    return {
        "compose_dir": v.get("app_compose_dir", repo + "/backend"),
        "health_url": v.get("app_health_url", "http://localhost:3000/health"),
    }


def _status(host, url):
    out = host.run("curl -s -o /dev/null -w '%%{http_code}' --max-time 5 %s", url)
    return out.stdout.strip()


@pytest.mark.parametrize("unit", ["docker", "nginx"])
def test_unit_running(host, unit):
    assert host.service(unit).is_running


def test_health_answers_200(host):
    assert _status(host, _vars(host)["health_url"]) == "200"


def test_health_through_nginx(host):
    assert _status(host, "http://127.0.0.1/health") == "200"


def test_every_stack_service_running(host):
    compose_dir = _vars(host)["compose_dir"]
    out = host.check_output("cd %s && docker compose ps --all --format json", compose_dir)
    rows = [json.loads(line) for line in out.splitlines() if line.strip()]
    states = {row["Service"]: row["State"] for row in rows}
    assert set(states) == {"api", "worker"}, states
    assert all(state == "running" for state in states.values()), states
