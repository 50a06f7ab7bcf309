# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Poll a health URL until it answers the wanted status or a real-time deadline on the host.

Shared by runbook_health (the health check's own round trip) and runbook_diagnose
(the outage's health check before the fix, polled in the diagnosis's round trip).
"""

from __future__ import annotations

import time

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


def poll_options(timeout: float) -> dict:
    """The argument spec of poll()'s params (a fresh dict each call), with the poll's default deadline."""
    return dict(
        url=dict(type="str", required=True),
        status=dict(type="int", default=200),
        timeout=dict(type="float", default=timeout),
        interval=dict(type="float", default=0.5),
        request_timeout=dict(type="float", default=5.0),
        validate_certs=dict(type="bool", default=True),
    )


def poll(params: dict) -> dict:
    """params: url, status, timeout, interval, request_timeout, validate_certs (runbook_health's options).
    The last request is cut short so the poll ends by the deadline."""
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
