# SPDX-License-Identifier: GPL-3.0-or-later
"""Notifications (the runbook's "Notify" step): a run's start and end posted to a webhook.

The URL comes from RUNBOOK_NOTIFY_URL, else the inventory variable
runbook_notify_url; only http and https. The body is Slack-compatible JSON
(`text` plus `blocks`), every text passed through the run's Redactor. A slow,
failing or dead webhook never fails a run: each post waits at most TIMEOUT
seconds and a problem becomes one warning line. The URL itself is never
printed or kept (a Slack webhook URL is a credential): a URL with blanks or
control characters is refused by `choose_url`, and whatever `post` meets (a
refused connection, a URL the HTTP client rejects, any other error) becomes one
line naming only the scheme and host, with the URL cut out of the reason.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from runbook.redact import Redactor

ENV_VAR = "RUNBOOK_NOTIFY_URL"
TIMEOUT = 3.0  # seconds per post
_ICONS = {"started": ":arrow_forward:", "ok": ":white_check_mark:"}
_FAILED_ICON = ":red_circle:"
# Blanks and control characters: no valid URL holds them (http.client refuses them later, with
# the whole URL, secret path included, in its message).
_NOT_IN_A_URL = re.compile(r"[\x00-\x20\x7f]")


@dataclass
class RunNotice:
    """What a notification says about a run."""

    run_id: str
    scenario: str
    title: str
    hosts: str  # the hosts acted on, else the limit or the inventory's default
    operator: str = ""
    incident: str | None = None
    check: bool = False
    result: str = ""  # empty at the start
    result_text: str = ""
    exit_code: int | None = None
    time_to_recover: str = ""
    report: str = ""
    failed_steps: list[str] = field(default_factory=list)


def choose_url(env_value: str | None, inventory_value: Any) -> tuple[str, str]:
    """(url, problem): the environment's URL over the inventory's; ("", reason) when unusable."""
    for value, source in ((env_value, ENV_VAR), (inventory_value, "runbook_notify_url")):
        if value in (None, ""):
            continue
        url = str(value).strip()
        if "{{" in url or "{%" in url:
            return "", f"{source} is a template, not a URL; notifications are off"
        parts = urlsplit(url)
        if (parts.scheme not in ("http", "https") or not parts.hostname or not _valid_port(url)
                or _NOT_IN_A_URL.search(url)):
            return "", f"{source} is not an http(s) URL; notifications are off"
        return url, ""
    return "", ""


def started_payload(notice: RunNotice, redactor: Redactor) -> dict[str, Any]:
    mode = " (check mode, nothing changes)" if notice.check else ""
    head = f"{_ICONS['started']} runbook started *{notice.scenario}*{mode}: {notice.title}"
    return _payload(head, _facts(notice, ending=False), redactor)


def ended_payload(notice: RunNotice, redactor: Redactor) -> dict[str, Any]:
    failed = notice.result != "ok"
    icon = _FAILED_ICON if failed else _ICONS["ok"]
    verb = "FAILED" if failed else "finished"
    head = f"{icon} runbook {verb} *{notice.scenario}*: {notice.result_text or notice.result}"
    return _payload(head, _facts(notice, ending=True), redactor)


def post(url: str, payload: dict[str, Any], timeout: float = TIMEOUT) -> str:
    """POST the JSON; "" when the webhook took it, else one line saying why not (never raises)."""
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": "application/json", "User-Agent": "runbook"})
    where = _where(url)
    try:
        with _OPENER.open(request, timeout=timeout) as answer:
            answer.read(1024)
    except urllib.error.HTTPError as exc:
        return f"the notify webhook at {where} answered {exc.code}"
    except Exception as exc:  # pylint: disable=broad-except  # a notification never stops a run
        reason = getattr(exc, "reason", exc)
        return f"the notify webhook at {where} could not be reached ({_short(_without_url(str(reason), url))})"
    return ""


class Notifier:
    """Posts a run's start and end to one webhook; collects warnings instead of raising."""

    def __init__(self, url: str, redactor: Redactor, timeout: float = TIMEOUT) -> None:
        self.url = url
        self.redactor = redactor
        self.timeout = timeout
        self.warnings: list[str] = []
        self.sent: list[str] = []  # "started", "ended": what the webhook took

    @property
    def enabled(self) -> bool:
        return bool(self.url)

    def started(self, notice: RunNotice) -> None:
        self._send("started", started_payload(notice, self.redactor))

    def ended(self, notice: RunNotice) -> None:
        self._send("ended", ended_payload(notice, self.redactor))

    def _send(self, what: str, payload: dict[str, Any]) -> None:
        if not self.url:
            return
        problem = post(self.url, payload, self.timeout)
        if problem:
            line = f"runbook: warning: {problem}; the run goes on without it"
            if line not in self.warnings:  # a dead webhook: one line, not one per post
                self.warnings.append(line)
        else:
            self.sent.append(what)


def _facts(notice: RunNotice, ending: bool) -> list[str]:
    facts = [f"Hosts: {notice.hosts or 'none'}"]
    if notice.incident:
        facts.append(f"Incident: {notice.incident}")
    if notice.operator:
        facts.append(f"Run by: {notice.operator}")
    if ending:
        code = "" if notice.exit_code is None else f" (exit {notice.exit_code})"
        facts.append(f"Result: {notice.result}{code}")
        facts.append(f"Time to recover: {notice.time_to_recover or 'not measured'}")
        if notice.failed_steps:
            facts.append("Failed: " + "; ".join(notice.failed_steps[:5]))
        if notice.report:
            facts.append(f"Report: {notice.report}")
    facts.append(f"Run: {notice.run_id}")
    return facts


def _payload(head: str, facts: list[str], redactor: Redactor) -> dict[str, Any]:
    head = redactor.text(head)
    facts = [redactor.text(" ".join(fact.split())) for fact in facts]
    text = head + "\n" + "\n".join(facts)
    return {
        "text": text,
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": head}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": fact[:2000]} for fact in facts[:10]]},
        ],
    }


def _where(url: str) -> str:
    """Scheme and host only: the path of a webhook URL is a credential."""
    parts = urlsplit(url)
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        port = ""
    host = _NOT_IN_A_URL.sub("", parts.hostname or "")
    return f"{parts.scheme}://{host}{port}"


def _without_url(text: str, url: str) -> str:
    """An error's text with the URL, its path and its query cut out (an error may quote any of them)."""
    parts = urlsplit(url)
    pieces = {url, parts.path, parts.query}
    pieces |= {repr(piece)[1:-1] for piece in pieces}  # as quoted in a message: \x01 escaped
    for piece in sorted(pieces, key=len, reverse=True):
        if len(piece) > 1:
            text = text.replace(piece, "<url>")
    return text


def _valid_port(url: str) -> bool:
    try:
        urlsplit(url).port
    except ValueError:
        return False
    return True


def _short(reason: object) -> str:
    return " ".join(str(reason).split())[:120] or "no reason given"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A webhook answers; it does not send the payload elsewhere."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)
