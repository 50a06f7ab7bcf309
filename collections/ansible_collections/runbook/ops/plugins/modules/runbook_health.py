#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Poll a health URL on the host until it answers the wanted status or a deadline passes.

One round trip for the whole poll (ansible.builtin.uri with until/retries costs
one per attempt and waits whole seconds between them). The deadline is real
time on the host: a hung app whose requests time out does not stretch it, and
the last request is cut short so the poll ends by the deadline. With `logs`,
the same round trip then reads the service's compose logs (the gate's log
scan), so a gate costs one round trip, not two.
"""

from __future__ import annotations

DOCUMENTATION = r"""
module: runbook_health
short_description: Poll a health URL until it answers the wanted status or a deadline passes
version_added: 0.2.0
author: runbook maintainers (!UNKNOWN)
description:
  - GETs O(url) from the host every O(interval) seconds (sub-second allowed) until it answers
    O(status) or O(timeout) seconds have passed on the host's clock.
  - The whole poll is one round trip. A hung app whose requests time out does not stretch the
    deadline; the last request is cut short so the poll ends by it.
  - With O(logs), once the poll ends the same round trip reads the last lines of a compose service's
    logs (C(docker compose logs)) and returns them in RV(log_lines), for a health gate that also
    scans the logs. The lines are raw, so a task that asks for them should set C(no_log).
  - The module only reads, and never reports a change.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - runbook.ops.read_only
attributes:
  check_mode:
    details: The module only reads; it polls the same way in check mode.
  platform:
    platforms: posix
options:
  url:
    description: The URL to poll (http or https).
    type: str
    required: true
  status:
    description: The HTTP status that means healthy.
    type: int
    default: 200
  timeout:
    description: Seconds to keep polling, real time on the host.
    type: float
    default: 60
  interval:
    description: Seconds between the start of two requests.
    type: float
    default: 0.5
  request_timeout:
    description: Seconds one request may take (cut short to end by the deadline).
    type: float
    default: 5
  validate_certs:
    description: Validate the TLS certificate of an https URL.
    type: bool
    default: true
  logs:
    description:
      - After the poll, read a compose service's logs in the same round trip
        (C(docker compose logs --no-color --tail TAIL [--since SINCE] SERVICE) in O(logs.project_dir)).
      - Omitted, no logs are read.
    type: dict
    suboptions:
      project_dir:
        description: The directory of the compose project.
        type: path
        required: true
      service:
        description: The compose service whose logs are read.
        type: str
        required: true
      tail:
        description: The last lines to read.
        type: int
        default: 200
      since:
        description: Only lines written since then (C(docker compose logs --since), e.g. epoch seconds); empty, no limit.
        type: str
        default: ""
"""

EXAMPLES = r"""
- name: Wait until the app answers 200 on its health URL (two minutes at most)
  runbook.ops.runbook_health:
    url: http://127.0.0.1:3000/health
    status: 200
    timeout: 120
    interval: 0.5
  register: health_check_poll
  check_mode: false

- name: Stop when the app is not healthy
  ansible.builtin.fail:
    msg: "The app answered {{ health_check_poll.status }} after {{ health_check_poll.attempts }} requests: {{ health_check_poll.msg }}"
  when: not health_check_poll.healthy

- name: Health gate and the api's log lines since the run started, one round trip
  runbook.ops.runbook_health:
    url: http://127.0.0.1:3000/health
    logs:
      project_dir: /root/echoelmusic/backend
      service: api
      since: "1733500000"
  register: health_check_poll
  check_mode: false
  no_log: true  # raw log lines can hold secrets
"""

RETURN = r"""
status:
  description: The status of the last request (-1 when nothing answered).
  returned: always
  type: int
  sample: 200
healthy:
  description: True when the last answer had the wanted status.
  returned: always
  type: bool
  sample: true
attempts:
  description: Requests made.
  returned: always
  type: int
  sample: 3
elapsed:
  description: Seconds the poll took.
  returned: always
  type: float
  sample: 1.02
first_status:
  description: The status of the first request (-1 when nothing answered).
  returned: always
  type: int
  sample: 502
msg:
  description: Why the last request did not answer (empty when it did).
  returned: always
  type: str
  sample: "[Errno 111] Connection refused"
log_lines:
  description: The service's log lines read after the poll (raw; empty when they could not be read).
  returned: when O(logs) is given
  type: list
  elements: str
  sample: ["api-1  | listening on 3000"]
log_msg:
  description: Why the logs could not be read (empty when they were).
  returned: when O(logs) is given
  type: str
  sample: ""
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.runbook.ops.plugins.module_utils.runbook_health_poll import poll, poll_options


def read_logs(module: AnsibleModule, logs: dict) -> dict:
    """The service's last compose log lines; never fails the poll (an empty list and why)."""
    docker = module.get_bin_path("docker")
    if docker is None:
        return dict(log_lines=[], log_msg="docker is not installed")
    argv = [docker, "compose", "logs", "--no-color", "--tail", str(logs["tail"])]
    if logs["since"]:
        argv += ["--since", logs["since"]]
    argv.append(logs["service"])
    rc, out, err = module.run_command(argv, cwd=logs["project_dir"])
    if rc != 0:
        return dict(log_lines=[], log_msg=(err or out).strip()[-500:] or f"docker compose logs exited {rc}")
    return dict(log_lines=out.splitlines(), log_msg="")


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            poll_options(60.0),
            logs=dict(type="dict", options=dict(
                project_dir=dict(type="path", required=True),
                service=dict(type="str", required=True),
                tail=dict(type="int", default=200),
                since=dict(type="str", default=""),
            )),
        ),
        supports_check_mode=True,
    )
    result = poll(module.params)
    if module.params["logs"]:
        result.update(read_logs(module, module.params["logs"]))
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
