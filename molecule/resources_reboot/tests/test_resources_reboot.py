# SPDX-License-Identifier: GPL-3.0-or-later
"""After resources.yml with reboot=true (runbook section 6 step 4): the test
host really went down and came back (the engine outside restarted its
container once: --check did not reboot; PID 1 is a new process), the stack was
taken down and brought up again (new containers), nginx runs and proxies, the
app is healthy and the run lock is given back."""

import subprocess


def outer(host) -> tuple[str, int]:
    """(StartedAt, RestartCount) of the test host's container, read by the engine outside it."""
    name = host.ansible.get_variables()["inventory_hostname"]
    out = subprocess.run(["docker", "inspect", "-f", "{{.State.StartedAt}} {{.RestartCount}}", name],
                         capture_output=True, text=True, check=True).stdout.split()
    return out[0], int(out[1])


def before(host, name: str) -> str:
    return host.file(f"/root/reboot-{name}-before.txt").content_string.strip()


def test_the_host_container_was_restarted_once(host):
    started_before, count_before = before(host, "outer").split()
    started_now, count_now = outer(host)
    assert started_now != started_before
    assert count_now == int(count_before) + 1


def test_pid_1_is_a_new_process(host):
    assert host.check_output("cut -d' ' -f22 /proc/1/stat") != before(host, "pid1")


def test_the_stack_came_back_in_new_containers(host, app):
    now = set(host.check_output("docker ps -q --no-trunc").split())
    assert now and not now & set(before(host, "containers").split())
    for service in ("api", "worker"):
        assert app.container(service) == ("running", "v4")


def test_nginx_runs_and_proxies_the_api(host, app):
    assert host.service("nginx").is_running
    assert app.http_status("http://127.0.0.1/health") == "200"


def test_health_answers_200(app):
    assert app.health()[0] == "200"


def test_the_run_lock_is_given_back(host, app):
    assert not host.file(app.state_dir + "/run.lock").exists
