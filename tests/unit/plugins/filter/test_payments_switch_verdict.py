# SPDX-License-Identifier: GPL-3.0-or-later
"""payments_switch_verdict: the switch is judged from whatever the app shows (a webhook answer
that moved with it, the health answer's payments field); no signal is "done but unverified"
(ok, a warning), never a Stripe outage; only an answer saying the opposite fails, and a webhook
that fails while payments should be on."""

from __future__ import annotations

import pytest

from ansible_collections.runbook.ops.plugins.filter.payments_switch_verdict import field_value, payments_switch_verdict

ENABLED, DISABLED = {"status": 200, "verdict": "enabled"}, {"status": 503, "verdict": "disabled"}
BROKEN_500, NO_ROUTE = {"status": 500, "verdict": "broken"}, {"status": 404, "verdict": "broken"}


def seen(mode="off", before=ENABLED, after=DISABLED, health=None, changed=True, verify="auto", **more):
    wanted = {"off": "disabled", "on": "enabled"}.get(mode, more.pop("wanted", "enabled"))
    return {"mode": mode, "wanted": wanted, "verify": verify, "check_mode": more.pop("check_mode", False),
            "changed": changed, "webhook_before": before, "webhook_after": after if changed else before,
            "health_before": more.pop("health_before", None), "health_after": health,
            "health_field": more.pop("field", "payments"), **more}


def test_the_fixture_s_webhook_that_moves_verifies_off_and_on():
    off = payments_switch_verdict(seen("off", ENABLED, DISABLED))
    assert (off["result"], off["ok"], off["by"]) == ("verified", True, ["webhook"])
    on = payments_switch_verdict(seen("on", DISABLED, ENABLED))
    assert (on["result"], on["ok"], on["by"]) == ("verified", True, ["webhook"])


def test_a_webhook_that_never_changes_with_the_health_field_verifies_through_the_field():
    # The issue's app: the webhook answers 200 before and after, /health says payments: false.
    verdict = payments_switch_verdict(seen("off", ENABLED, ENABLED, health={"status": "ok", "payments": False}))
    assert (verdict["result"], verdict["ok"], verdict["by"]) == ("verified", True, ["health_field"])
    assert verdict["health_value"] is False
    assert "Stripe" not in verdict["message"]


def test_no_signal_is_done_but_unverified_and_ok():
    verdict = payments_switch_verdict(seen("off", ENABLED, ENABLED, health={"status": "ok"}))
    assert (verdict["result"], verdict["ok"], verdict["by"]) == ("unverified", True, [])
    assert "done but unverified" in verdict["message"]
    assert "the same as before" in verdict["message"] and "no true/false field payments" in verdict["message"]
    assert "Stripe" not in verdict["message"]


def test_a_health_field_saying_the_opposite_is_a_contradiction():
    verdict = payments_switch_verdict(seen("off", ENABLED, ENABLED, health={"payments": True}))
    assert (verdict["result"], verdict["ok"]) == ("contradicted", False)
    assert "payments is true" in verdict["message"]


def test_a_webhook_that_moved_the_wrong_way_is_a_contradiction():
    verdict = payments_switch_verdict(seen("on", ENABLED, DISABLED))
    assert (verdict["result"], verdict["ok"]) == ("contradicted", False)


def test_agreeing_field_and_contradicting_webhook_fail():
    verdict = payments_switch_verdict(seen("on", ENABLED, DISABLED, health={"payments": True}))
    assert verdict["result"] == "contradicted"


def test_a_run_that_changed_nothing_confirms_with_a_matching_answer_and_is_silent_otherwise():
    assert payments_switch_verdict(seen("off", DISABLED, changed=False))["result"] == "verified"
    # An app whose webhook always answers 200: nothing to see, no recreate loop, no failure.
    assert payments_switch_verdict(seen("off", ENABLED, changed=False))["result"] == "unverified"
    field = payments_switch_verdict(seen("off", ENABLED, changed=False, health_before={"payments": "false"}))
    assert (field["result"], field["by"]) == ("verified", ["health_field"])


def test_a_failing_webhook_while_payments_should_be_on_is_broken_a_missing_route_is_silent():
    broken = payments_switch_verdict(seen("on", DISABLED, BROKEN_500))
    assert (broken["result"], broken["ok"]) == ("broken", False)
    assert "does not take events" in broken["message"]
    assert payments_switch_verdict(seen("on", NO_ROUTE, NO_ROUTE))["result"] == "unverified"
    assert payments_switch_verdict(seen("off", ENABLED, BROKEN_500))["result"] == "unverified"
    status = payments_switch_verdict(seen("status", BROKEN_500, changed=False, wanted="enabled"))
    assert status["result"] == "broken"


def test_webhook_mode_requires_the_webhook_to_match():
    assert payments_switch_verdict(seen("off", ENABLED, DISABLED, verify="webhook"))["result"] == "verified"
    same = payments_switch_verdict(seen("off", ENABLED, ENABLED, verify="webhook", health={"payments": False}))
    assert (same["result"], same["by"]) == ("contradicted", [])
    assert payments_switch_verdict(seen("on", NO_ROUTE, NO_ROUTE, verify="webhook"))["result"] == "broken"


def test_health_field_mode_requires_the_field():
    ok = payments_switch_verdict(seen("off", ENABLED, ENABLED, verify="health_field", health={"payments": False}))
    assert (ok["result"], ok["by"]) == ("verified", ["health_field"])
    missing = payments_switch_verdict(seen("off", ENABLED, DISABLED, verify="health_field", health={}))
    assert (missing["result"], missing["ok"]) == ("contradicted", False)
    assert "payments_switch_verify=health_field" in missing["message"]


@pytest.mark.parametrize("kwargs", [{"verify": "none"}, {"check_mode": True}])
def test_none_and_check_mode_check_nothing(kwargs):
    verdict = payments_switch_verdict(seen("on", DISABLED, BROKEN_500, **kwargs))
    assert (verdict["result"], verdict["ok"]) == ("not_checked", True)


def test_field_values():
    assert field_value({"payments": True}, "payments") is True
    assert field_value({"features": {"payments": "disabled"}}, "features.payments") is False
    assert field_value({"payments": "maybe"}, "payments") is None
    assert field_value({"payments": None}, "payments") is None
    assert field_value(None, "payments") is None
    assert field_value(["payments"], "payments") is None
