"""Extra vars, inventory and limit are checked against the catalog before anything runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from runbook.catalog import Scenario, VarSpec
from runbook.errors import BadInput
from runbook.validate import (CONTRACT_VARS, TEMPLATE_MARKERS, check_contract_vars, check_extra_vars, check_inventory,
                              check_limit, check_not_template, check_token, parse_assignments)

SCENARIO = Scenario(
    name="rollback",
    path=Path("playbooks/rollback.yml"),
    title="Failed deployment",
    section="7",
    severity="P0",
    destructive=False,
    extra_vars={
        "commit": VarSpec("commit", "Target commit, a 7-40 hex SHA or HEAD~N", "HEAD~1",
                          pattern=r"^([0-9a-fA-F]{7,40}|HEAD~[0-9]+)$"),
        "payments": VarSpec("payments", "Turn Stripe payments off or on", "off", choices=("off", "on")),
        "force_renewal": VarSpec("force_renewal", "Renew even if not due", False, type="bool"),
        "keep": VarSpec("keep", "Backups to keep", 3, type="int"),
        "db_password": VarSpec("db_password", "A password", None),
    },
)


def test_parse_assignments() -> None:
    assert parse_assignments(["commit=abc1234", "payments=on", "commit=HEAD~2", "empty="]) == {
        "commit": "HEAD~2",
        "payments": "on",
        "empty": "",
    }
    assert parse_assignments(["url=http://x/?a=b"]) == {"url": "http://x/?a=b"}


@pytest.mark.parametrize("item", ["commit", "@vars.yml", "=x", "bad-name=1", "1x=2"])
def test_parse_assignments_rejects_what_is_not_key_value(item: str) -> None:
    with pytest.raises(BadInput, match="-e"):
        parse_assignments([item])


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ({"commit": "abc1234"}, {"commit": "abc1234"}),
        ({"commit": "HEAD~3"}, {"commit": "HEAD~3"}),
        ({"commit": "0123456789abcdef0123456789abcdef01234567"}, {"commit": "0123456789abcdef0123456789abcdef01234567"}),
        ({"payments": "on"}, {"payments": "on"}),
        ({"force_renewal": "YES"}, {"force_renewal": True}),
        ({"force_renewal": "true"}, {"force_renewal": True}),
        ({"force_renewal": "No"}, {"force_renewal": False}),
        ({"force_renewal": "FALSE"}, {"force_renewal": False}),
        ({"keep": "7"}, {"keep": 7}),
        ({"app_domain": "example.test", "runbook_serial": "1"}, {"app_domain": "example.test", "runbook_serial": "1"}),
    ],
)
def test_accepted_values_are_typed(given: dict[str, str], expected: dict[str, object]) -> None:
    assert check_extra_vars(SCENARIO, given) == expected


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"commit": "main"}, r"-e commit='main' is not accepted: Target commit.*must match"),
        ({"commit": "abc12"}, "must match"),
        ({"commit": "abc1234; rm -rf /"}, "must match"),
        ({"payments": "maybe"}, r"one of: off, on"),
        ({"force_renewal": "1"}, r"true/false/yes/no"),
        ({"keep": "three"}, "whole number"),
        ({"bogus": "1"}, r"rollback does not accept -e bogus \(accepts: commit, db_password, force_renewal, keep, payments, and the contract variables app_compose_dir"),
        ({"app_domain": ""}, "needs a value"),
    ],
)
def test_bad_values_fail_with_one_clear_line(given: dict[str, str], message: str) -> None:
    with pytest.raises(BadInput, match=message) as info:
        check_extra_vars(SCENARIO, given)
    assert "\n" not in str(info.value)


def test_every_contract_variable_is_accepted() -> None:
    assert len(CONTRACT_VARS) == 11
    given = {name: "x" for name in CONTRACT_VARS}
    assert check_extra_vars(SCENARIO, given) == given


def test_a_rejected_secret_value_is_not_echoed() -> None:
    spec = VarSpec("api_token", "A token", None, pattern="^tok-[a-z]+$")
    scenario = Scenario("s", Path("s.yml"), "S", "1", "P1", False, {"api_token": spec})
    with pytest.raises(BadInput) as info:
        check_extra_vars(scenario, {"api_token": "tok-SUPERSECRET1"})
    assert "SUPERSECRET" not in str(info.value)
    assert "********" in str(info.value)


def test_inventory_must_exist(tmp_path: Path) -> None:
    assert check_inventory(None) is None
    inventory = tmp_path / "hosts.yml"
    inventory.write_text("all: {}\n")
    assert check_inventory(str(inventory)) == str(inventory.resolve())
    with pytest.raises(BadInput, match="not found"):
        check_inventory(str(tmp_path / "missing.yml"))


def test_limit() -> None:
    assert check_limit(None) is None
    assert check_limit(" web1 ") == "web1"
    with pytest.raises(BadInput):
        check_limit(" ")


TEMPLATES = ["{{ lookup('pipe', 'id') }}", "{% if true %}x{% endif %}", "{# note #}", "main{{x", "a{%b", "HEAD{#"]


@pytest.mark.parametrize("value", TEMPLATES)
@pytest.mark.parametrize("name", ["commit", "payments", "keep", "db_password", "runbook_state_dir", "app_domain"])
def test_a_template_marker_in_any_value_is_refused_naming_the_variable(name: str, value: str) -> None:
    with pytest.raises(BadInput) as info:
        check_extra_vars(SCENARIO, {"payments": "on", name: value})
    message = str(info.value)
    assert message == f"-e {name}: the value contains a template marker ({{{{, {{% or {{#); give a plain value"
    assert value not in message  # never echoed (it may be a secret)


def test_every_marker_is_covered() -> None:
    assert set(TEMPLATE_MARKERS) == {"{{", "{%", "{#"}
    for marker in TEMPLATE_MARKERS:
        with pytest.raises(BadInput, match="-e runbook_state_dir: the value contains a template marker"):
            check_extra_vars(SCENARIO, {"runbook_state_dir": f"/var/lib/{marker}x"})
        with pytest.raises(BadInput, match="the name contains a template marker"):
            check_not_template(f"x{marker}", "1")


def test_single_braces_and_percent_signs_are_plain_values() -> None:
    given = {"app_domain": "a{b}%c#d", "runbook_state_dir": "/srv/{x}/%s #1"}
    assert check_extra_vars(SCENARIO, given) == given


def test_the_lock_token_cannot_be_set_with_e() -> None:
    with pytest.raises(BadInput, match="rollback does not accept -e runbook_lock_token"):
        check_extra_vars(SCENARIO, {"runbook_lock_token": "0123456789abcdef"})
    with pytest.raises(BadInput, match="unlock-stale does not accept -e runbook_lock_token"):
        check_contract_vars("unlock-stale", {"runbook_lock_token": "0123456789abcdef"})


def test_contract_vars_only() -> None:
    given = {"runbook_state_dir": "/srv/state"}
    assert check_contract_vars("unlock-stale", given) == given
    with pytest.raises(BadInput, match="unlock-stale does not accept -e commit"):
        check_contract_vars("unlock-stale", {"commit": "abc1234"})
    with pytest.raises(BadInput, match="needs a value"):
        check_contract_vars("unlock-stale", {"runbook_state_dir": ""})
    with pytest.raises(BadInput, match="template marker"):
        check_contract_vars("unlock-stale", {"runbook_state_dir": "{{ x }}"})


def test_lock_token() -> None:
    assert check_token(None) is None
    assert check_token("0123456789ABCDEF") == "0123456789abcdef"
    for bad in ("", "xyz", "0123", "{{ x }}", "0123456789abcdef; rm"):
        with pytest.raises(BadInput, match="--token"):
            check_token(bad)
