#!/usr/bin/python
# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Poll a health URL on the host until it answers the wanted status or a deadline passes.

One round trip for the whole poll (ansible.builtin.uri with until/retries costs
one per attempt and waits whole seconds between them). The deadline is real
time on the host: a hung app whose requests time out does not stretch it, and
the last request is cut short so the poll ends by the deadline.
"""

from __future__ import annotations

DOCUMENTATION = r"""
module: runbook_health
short_description: Poll a health URL until it answers the wanted status or a deadline passes
description:
  - GETs O(url) every O(interval) seconds (sub-second allowed) until it answers O(status)
    or O(timeout) seconds have passed on the host's clock. Only reads; runs under check mode.
options:
  url: {type: str, required: true, description: The URL to poll.}
  status: {type: int, default: 200, description: The HTTP status that means healthy.}
  timeout: {type: float, default: 60, description: Seconds to keep polling (real time).}
  interval: {type: float, default: 0.5, description: Seconds between the start of two requests.}
  request_timeout: {type: float, default: 5, description: Seconds one request may take.}
  validate_certs: {type: bool, default: true, description: Validate TLS certificates of an https URL.}
"""

RETURN = r"""
status: {description: The last HTTP status (-1 when nothing answered), type: int}
healthy: {description: True when the last answer had the wanted status, type: bool}
attempts: {description: Requests made, type: int}
elapsed: {description: Seconds the poll took, type: float}
first_status: {description: The status of the first request (-1 when nothing answered), type: int}
msg: {description: Why the last request did not answer (empty when it did), type: str}
"""

import time

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.six.moves.urllib.error import HTTPError
from ansible.module_utils.urls import open_url


def get_status(url: str, timeout: float, validate_certs: bool) -> tuple[int, str]:
    """The status one GET answers, or -1 and why nothing answered."""
    try:
        response = open_url(url, method="GET", timeout=timeout, validate_certs=validate_certs,
                            follow_redirects="safe")
        try:
            return response.getcode(), ""
        finally:
            response.close()
    except HTTPError as exc:
        return exc.code, ""
    except Exception as exc:  # pylint: disable=broad-except
        return -1, str(getattr(exc, "reason", exc)) or exc.__class__.__name__


def poll(params: dict) -> dict:
    start = time.monotonic()
    deadline = start + max(params["timeout"], 0.0)
    attempts, first, status, why = 0, None, -1, ""
    while True:
        began = time.monotonic()
        left = max(deadline - began, 0.1)
        status, why = get_status(params["url"], min(params["request_timeout"], left), params["validate_certs"])
        attempts += 1
        first = status if first is None else first
        if status == params["status"]:
            break
        pause = params["interval"] - (time.monotonic() - began)
        if time.monotonic() + max(pause, 0.0) >= deadline:
            break
        if pause > 0:
            time.sleep(pause)
    return dict(status=status, healthy=status == params["status"], attempts=attempts,
                elapsed=round(time.monotonic() - start, 2), first_status=first, msg=why)


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            url=dict(type="str", required=True),
            status=dict(type="int", default=200),
            timeout=dict(type="float", default=60.0),
            interval=dict(type="float", default=0.5),
            request_timeout=dict(type="float", default=5.0),
            validate_certs=dict(type="bool", default=True),
        ),
        supports_check_mode=True,
    )
    module.exit_json(changed=False, **poll(module.params))


if __name__ == "__main__":
    main()
