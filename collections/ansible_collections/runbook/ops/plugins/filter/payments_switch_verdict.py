# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Whether the app's answers show the payments switch as wanted: the payments_switch role's verdict."""

from __future__ import annotations

DOCUMENTATION = r"""
name: payments_switch_verdict
short_description: Decide from the app's answers whether payments are as the switch wants them
version_added: 0.2.0
author: runbook maintainers (!UNKNOWN)
description:
  - Takes what the payments_switch role saw (the webhook's answer to the unsigned test event before and after the
    switch, the health answer's JSON) and decides whether the app shows payments as wanted.
  - The signals are the webhook's answer and a field of the health answer. With C(verify=auto) a signal counts only
    when it says something. That is a webhook answer that moved with the switch (to the disabled status for off, to
    another answer for on), a webhook that already answers as wanted when nothing had to change, or the health field
    holding true or false.
  - C(verified) when a signal agrees and none contradicts. C(contradicted) when a signal says the opposite (the health
    field, or a webhook that moved the wrong way). C(broken) when payments should be on and the webhook fails (nothing,
    5xx). C(unverified) when no signal says anything (done, not proven). C(not_checked) under C(verify=none) or
    C(--check).
  - With C(verify=webhook) or C(verify=health_field) only that signal counts, and it must agree.
options:
  _input:
    description: >-
      What was seen. Keys are C(mode) (off, on, status), C(wanted) (enabled, disabled), C(verify) (auto, webhook,
      health_field, none), C(check_mode), C(changed) (the services were recreated and probed again),
      C(webhook_before) and C(webhook_after) (each C(status) and C(verdict): enabled, disabled, broken),
      C(health_before) and C(health_after) (the health answer's JSON, or null), C(health_field) (a key, dotted for
      nested keys), C(webhook_url).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Decide whether payments are as wanted
  ansible.builtin.set_fact:
    payments_switch_verdict: "{{ payments_switch_seen | runbook.ops.payments_switch_verdict }}"
"""

RETURN = r"""
_value:
  description: >-
    C(result) (verified, unverified, contradicted, broken, not_checked), C(ok) (false for contradicted and broken),
    C(by) (the signals that agreed, webhook and health_field), C(health_value) (the field's value read as true or
    false, else null) and C(message) (one line saying what was decided from what).
  type: dict
"""

from typing import Any

_TRUE = ("true", "on", "yes", "enabled", "1")
_FALSE = ("false", "off", "no", "disabled", "0")
# A webhook answer that says nothing about the switch: the route is not there (wrong path).
_NO_ROUTE = (404, 405)


def field_value(data: Any, field: str) -> bool | None:
    """The health answer's field (dotted for nested keys) read as true or false; None when absent or neither."""
    for key in (field or "").split("."):
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    if isinstance(data, bool):
        return data
    if isinstance(data, (str, int)) and not isinstance(data, bool):
        text = str(data).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    return None


def _status(probe: Any) -> int:
    try:
        return int((probe or {}).get("status", -1))
    except (TypeError, ValueError):
        return -1


def _answer(status: int) -> str:
    return str(status) if status > 0 else "nothing"


def _webhook(seen: dict[str, Any], wanted: str, strict: bool) -> tuple[str, str]:
    """(agrees|contradicts|broken|silent, why) from the webhook's answers."""
    before, after = seen.get("webhook_before") or {}, seen.get("webhook_after") or {}
    changed = bool(seen.get("changed"))
    old, new = _status(before), _status(after)
    verdict = after.get("verdict", "broken")
    shown = "answered %s" % _answer(new) if not changed else "answered %s (before: %s)" % (_answer(new), _answer(old))
    if verdict == "broken":
        if wanted == "enabled" and (strict or new not in _NO_ROUTE):
            return "broken", "the webhook %s: it does not take events" % shown
        return "silent", "the webhook %s" % shown
    if strict:
        return ("agrees" if verdict == wanted else "contradicts"), "the webhook %s (%s)" % (shown, verdict)
    if changed and new == old:
        return "silent", "the webhook %s, the same as before" % shown
    if verdict == wanted:
        return "agrees", "the webhook %s (%s)" % (shown, verdict)
    # It moved the wrong way, or (nothing changed) answers the other way: only a move is evidence.
    if changed:
        return "contradicts", "the webhook %s (%s)" % (shown, verdict)
    return "silent", "the webhook %s (%s)" % (shown, verdict)


def _health(seen: dict[str, Any], wanted: str) -> tuple[str, str, bool | None]:
    """(agrees|contradicts|silent, why, value) from the health answer's field."""
    field = seen.get("health_field") or "payments"
    answer = seen.get("health_after") if seen.get("changed") else seen.get("health_before")
    value = field_value(answer, field)
    if value is None:
        return "silent", "the health answer has no true/false field %s" % field, None
    state = "enabled" if value else "disabled"
    return ("agrees" if state == wanted else "contradicts"), "the health answer's %s is %s" % (
        field, "true" if value else "false"), value


def payments_switch_verdict(seen: dict[str, Any]) -> dict[str, Any]:
    """The verdict (see DOCUMENTATION) from what the payments_switch role saw."""
    mode = seen.get("mode", "status")
    wanted = seen.get("wanted", "enabled")
    verify = seen.get("verify", "auto")
    head = "Payments %s" % mode
    hook, hook_why = _webhook(seen, wanted, strict=verify == "webhook")
    health, health_why, value = _health(seen, wanted)
    result = {"result": "not_checked", "ok": True, "by": [], "health_value": value}
    if verify == "none" or (seen.get("check_mode") and mode != "status"):
        why = "payments_switch_verify=none" if verify == "none" else "--check: nothing switched"
        result["message"] = "%s: not verified (%s); %s; %s." % (head, why, hook_why, health_why)
        return result
    signals = []
    if verify in ("auto", "webhook"):
        signals.append(("webhook", hook, hook_why))
    if verify in ("auto", "health_field"):
        signals.append(("health_field", health, health_why))
    if verify == "health_field" and health == "silent":
        result.update(result="contradicted", ok=False,
                      message="%s: cannot be verified as asked (payments_switch_verify=health_field): %s."
                      % (head, health_why))
        return result
    said = [why for name, state, why in signals if state != "silent"]
    against = [why for name, state, why in signals if state == "contradicts"]
    broken = [why for name, state, why in signals if state == "broken"]
    result["by"] = [name for name, state, why in signals if state == "agrees"]
    quiet = "; ".join(why for name, state, why in signals if state == "silent")
    if broken:
        result.update(result="broken", ok=False,
                      message="%s: %s while payments should be on." % (head, "; ".join(broken)))
    elif against:
        result.update(result="contradicted", ok=False,
                      message="%s: the app says payments are not %s: %s." % (head, wanted, "; ".join(said)))
    elif result["by"]:
        result.update(result="verified", message="%s: verified, payments %s: %s%s." % (
            head, wanted, "; ".join(said), " (%s)" % quiet if quiet else ""))
    else:
        result.update(result="unverified",
                      message="%s: done but unverified: no answer of the app shows the switch (%s). Check payments by "
                              "hand, or set payments_switch_verify (webhook, health_field) and "
                              "payments_switch_health_field." % (head, quiet))
    return result


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"payments_switch_verdict": payments_switch_verdict}
