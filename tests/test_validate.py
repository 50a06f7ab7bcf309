# SPDX-License-Identifier: GPL-3.0-or-later
"""Extra vars, inventory and limit are checked against the catalog before anything runs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from runbook.catalog import Scenario, VarSpec
from runbook.errors import BadInput
from runbook.validate import (CONNECTION_VARS, CONTRACT_VARS, TEMPLATE_MARKERS, check_contract_vars, check_extra_vars,
                              check_forks, check_inventory, check_limit, check_not_template, check_private_key,
                              check_tags, check_token, check_user, load_vars_file, parse_assignments, read_extra_vars,
                              secret_values)

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
        ({"runbook_serial": "25%"}, {"runbook_serial": "25%"}),
        ({"runbook_serial": 2}, {"runbook_serial": "2"}),
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
        ({"bogus": "1"}, r"rollback does not accept -e bogus \(accepts: commit, db_password, force_renewal, keep, payments, the contract variables app_compose_dir.*and Ansible's connection variables\)$"),
        ({"app_domain": ""}, "needs a value"),
        ({"runbook_serial": "0"}, r"-e runbook_serial='0' is not accepted: give a number of hosts per batch"),
        ({"runbook_serial": "101%"}, r"\(1% to 100%\)$"),
        ({"runbook_serial": "all"}, "is not accepted"),
        ({"runbook_serial": "-1"}, "is not accepted"),
    ],
)
def test_bad_values_fail_with_one_clear_line(given: dict[str, str], message: str) -> None:
    with pytest.raises(BadInput, match=message) as info:
        check_extra_vars(SCENARIO, given)
    assert "\n" not in str(info.value)


def test_every_contract_variable_is_accepted() -> None:
    assert len(CONTRACT_VARS) == 17
    layout = {"app_webhook_path": "/hooks/pay", "app_nginx_site": "/etc/nginx/conf.d/app.conf",
              "runbook_triage_max_fixes": "5", "runbook_triage_window": "90m"}
    given = {name: "25%" if name == "runbook_serial" else layout.get(name, "x") for name in CONTRACT_VARS}
    assert check_extra_vars(SCENARIO, given) == given


@pytest.mark.parametrize(
    ("name", "value", "what"),
    [
        ("app_service", "my api", "a compose service name"),
        ("app_service", "-api", "a compose service name"),
        ("app_payments_switch", "PAYMENTS-ON", "an environment variable name"),
        ("app_payments_switch", "1PAY", "an environment variable name"),
        ("app_webhook_path", "webhooks/stripe", "a URL path starting with /"),
        ("app_webhook_path", "/hooks/a b", "a URL path starting with /"),
        ("app_nginx_site", "sites-available/api", "an absolute file path"),
        ("app_nginx_site", "/etc/nginx/sites-available/", "an absolute file path"),
    ],
)
def test_layout_variables_have_their_shape(name: str, value: str, what: str) -> None:
    with pytest.raises(BadInput, match=f"-e {name}=.* is not accepted: give {what}"):
        check_extra_vars(SCENARIO, {name: value})
    good = {"app_service": "backend_web.1", "app_payments_switch": "PAYMENTS_ENABLED",
            "app_webhook_path": "/api/v1/stripe/webhook", "app_nginx_site": "/etc/nginx/sites-enabled/shop.conf"}
    assert check_extra_vars(SCENARIO, {name: good[name]}) == {name: good[name]}


def test_a_rejected_secret_value_is_not_echoed() -> None:
    spec = VarSpec("api_token", "A token", None, pattern="^tok-[a-z]+$")
    scenario = Scenario("s", Path("s.yml"), "S", "1", "P1", False, {"api_token": spec})
    with pytest.raises(BadInput) as info:
        check_extra_vars(scenario, {"api_token": "tok-SUPERSECRET1"})
    assert "SUPERSECRET" not in str(info.value)
    assert "********" in str(info.value)


def test_inventory_must_exist(tmp_path: Path) -> None:
    assert check_inventory(None) == [] and check_inventory([]) == []
    inventory = tmp_path / "hosts.yml"
    inventory.write_text("all: {}\n")
    assert check_inventory([str(inventory)]) == [str(inventory.resolve())]
    with pytest.raises(BadInput, match="not found"):
        check_inventory([str(tmp_path / "missing.yml")])


def test_inventories_repeat_and_host_lists_are_taken(tmp_path: Path) -> None:
    first, second = tmp_path / "a.yml", tmp_path / "b.yml"
    first.write_text("all: {}\n")
    second.write_text("all: {}\n")
    assert check_inventory([str(first), "web1,web2,", str(second), "db1,", "[::1],10.0.0.5"]) == [
        str(first.resolve()), "web1,web2,", str(second.resolve()), "db1,", "[::1],10.0.0.5"]
    for bad in ("web1, web2", "web1,{{ x }}", "web1,$(id)", ","):
        with pytest.raises(BadInput, match="a host list is names separated by commas"):
            check_inventory([bad])


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


# -e @FILE --------------------------------------------------------------------


def write(path: Path, text: str) -> str:
    path.write_text(text)
    return str(path)


def test_a_vars_file_and_assignments_merge_in_order_the_last_wins(tmp_path: Path) -> None:
    yaml_file = write(tmp_path / "vars.yml", "commit: abc1234\nforce_renewal: true\nkeep: 4\n")
    json_file = write(tmp_path / "vars.json", '{"payments": "on", "keep": 5}')
    given = read_extra_vars(["commit=HEAD~1", f"@{yaml_file}", f"@{json_file}", "payments=off"])
    assert given == {"commit": "abc1234", "force_renewal": True, "keep": 5, "payments": "off"}
    # typed YAML values go through the same checks as their text would
    assert check_extra_vars(SCENARIO, given) == {"commit": "abc1234", "force_renewal": True, "keep": 5,
                                                 "payments": "off"}


def test_an_unsafe_tagged_value_is_read_as_text_and_still_checked(tmp_path: Path) -> None:
    path = write(tmp_path / "vars.yml", "app_domain: !unsafe 'a{{b}}'\n")
    given = read_extra_vars([f"@{path}"])
    assert given == {"app_domain": "a{{b}}"}
    with pytest.raises(BadInput, match="-e app_domain: the value contains a template marker"):
        check_extra_vars(SCENARIO, given)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (None, "no such file"),
        ("", "must hold a mapping"),
        ("- a\n- b\n", "must hold a mapping"),
        ("just text\n", "must hold a mapping"),
        ("a: [1\n", r"not valid YAML or JSON \(line 2\)"),
        ("secret: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  6162\n", "holds a !vault value; give the vault password"),
        ("$ANSIBLE_VAULT;1.1;AES256\n6162\n", "vault-encrypted; give the vault password"),
        ("bad-name: 1\n", "'bad-name' is not a variable name"),
        ("1: x\n", "1 is not a variable name"),
        ("when: 2026-11-29\n", "when holds a date; quote it"),
    ],
)
def test_a_vars_file_that_is_missing_or_not_a_mapping_is_one_line(tmp_path: Path, text: str | None,
                                                                  message: str) -> None:
    path = tmp_path / "vars.yml"
    if text is not None:
        path.write_text(text)
    with pytest.raises(BadInput, match=message) as info:
        read_extra_vars([f"@{path}"])
    assert str(info.value).startswith(f"-e @{path}: ") and "\n" not in str(info.value)


def test_a_vars_file_that_cannot_be_read_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="no such file"):
        load_vars_file(str(tmp_path))  # a directory
    binary = tmp_path / "vars.bin"
    binary.write_bytes(b"\xff\xfe\x00x")
    with pytest.raises(BadInput, match="not a text file"):
        load_vars_file(str(binary))


@pytest.mark.parametrize("value", [
    {"nested": {"deep": ["ok", "{{ lookup('pipe', 'id') }}"]}},
    ["{% if 1 %}", "x"],
    {"{# key #}": "x"},
])
def test_a_template_marker_anywhere_in_a_nested_value_is_refused(value: object) -> None:
    with pytest.raises(BadInput, match="^-e ansible_host: the value contains a template marker"):
        check_extra_vars(SCENARIO, {"ansible_host": value})


@pytest.mark.parametrize(("given", "message"), [
    ({"commit": ["abc1234"]}, "-e commit needs a plain value .* got a list"),
    ({"app_domain": {"a": 1}}, "-e app_domain needs a plain value"),
    ({"keep": None}, "got nothing"),
    ({"ansible_user": {"a": "b"}}, "needs a plain value"),
])
def test_structured_values_for_plain_variables_are_refused(given: dict[str, object], message: str) -> None:
    with pytest.raises(BadInput, match=message):
        check_extra_vars(SCENARIO, given)


# ansible_* connection variables -----------------------------------------------


def test_connection_variables_are_accepted_as_given(tmp_path: Path) -> None:
    key = write(tmp_path / "id_ed25519", "key\n")
    given = {"ansible_user": "deployer", "ansible_port": "2222", "ansible_become": "true",
             "ansible_become_method": "sudo", "ansible_become_password": "s3cret-pass",
             "ansible_ssh_private_key_file": key, "ansible_host": "10.0.0.5"}
    assert check_extra_vars(SCENARIO, given) == given
    assert check_contract_vars("unlock-stale", given) == given


@pytest.mark.parametrize(("given", "message"), [
    ({"ansible_ssh_common_args": "-o ProxyCommand=touch /tmp/x"}, "does not accept -e ansible_ssh_common_args"),
    ({"ansible_python_interpreter": "/tmp/evil"}, "does not accept -e ansible_python_interpreter"),
    ({"ansible_connection": "local"}, "does not accept -e ansible_connection"),
    ({"ansible_become_method": "sh"}, "is not a become method"),
    ({"ansible_user": "root; id"}, "is not a user name"),
    ({"ansible_user": ""}, "needs a value"),
    ({"ansible_private_key_file": "/nonexistent/key"}, "-e ansible_private_key_file '/nonexistent/key': no such file"),
])
def test_connection_variables_that_run_programs_or_are_malformed_are_refused(given: dict[str, str],
                                                                             message: str) -> None:
    with pytest.raises(BadInput, match=message):
        check_extra_vars(SCENARIO, given)


def test_the_password_connection_variables_are_secrets() -> None:
    given = {"ansible_password": "login-pw-1", "ansible_become_password": "become-pw-2",
             "ansible_ssh_pass": "ssh-pw-3", "ansible_become_pass": "become-pw-4", "ansible_user": "deployer",
             "db": {"db_password": "nested-pw-5", "list": ["x"]}, "api_token": ["tok-6", "tok-7"]}
    assert sorted(secret_values(given)) == ["become-pw-2", "become-pw-4", "login-pw-1", "nested-pw-5",
                                            "ssh-pw-3", "tok-6", "tok-7"]
    assert {"ansible_password", "ansible_become_password", "ansible_ssh_pass"} <= CONNECTION_VARS


# Ansible's own options ----------------------------------------------------------


def test_user_names() -> None:
    assert check_user(None, "-u") is None
    for good in ("deployer", "ci_bot", "svc-app.1", "jane@corp.example"):
        assert check_user(good, "-u") == good
    for bad in ("", "-oProxyCommand=x", "a b", "root;id", "x" * 65, "{{ x }}"):
        with pytest.raises(BadInput, match="^-u .* is not a user name"):
            check_user(bad, "-u")


def test_private_key_must_exist_and_be_readable(tmp_path: Path) -> None:
    assert check_private_key(None) is None
    key = tmp_path / "id_ed25519"
    key.write_text("key\n")
    assert check_private_key(str(key)) == str(key.resolve())
    with pytest.raises(BadInput, match="^--private-key '.*missing': no such file$"):
        check_private_key(str(tmp_path / "missing"))
    with pytest.raises(BadInput, match="no such file"):
        check_private_key(str(tmp_path))


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file")
def test_an_unreadable_private_key_is_refused(tmp_path: Path) -> None:
    key = tmp_path / "id_ed25519"
    key.write_text("key\n")
    key.chmod(0)
    with pytest.raises(BadInput, match="not readable"):
        check_private_key(str(key))


def test_forks() -> None:
    assert check_forks(None) is None
    assert check_forks(1) == 1 and check_forks(100) == 100
    for bad in (0, -3, 101):
        with pytest.raises(BadInput, match="1 to 100"):
            check_forks(bad)


TAGGED = Scenario("outage", Path("outage.yml"), "Outage", "1", "P0", False, tags=("diagnose", "bring_back", "escalate"))


def test_tags_are_comma_lists_of_the_documented_tags() -> None:
    assert check_tags(TAGGED, [], "--tags") is None
    assert check_tags(TAGGED, ["diagnose, bring_back", "escalate,diagnose"], "--tags") == "diagnose,bring_back,escalate"
    with pytest.raises(BadInput, match=r"^outage has no tag 'restart' \(its tags: diagnose, bring_back, escalate\)$"):
        check_tags(TAGGED, ["diagnose,restart"], "--tags")
    with pytest.raises(BadInput, match="outage has no tag 'always'"):
        check_tags(TAGGED, ["always"], "--tags")


def test_without_documented_tags_any_tag_name_is_accepted() -> None:
    assert check_tags(SCENARIO, ["anything_1,other-2"], "--skip-tags") == "anything_1,other-2"


@pytest.mark.parametrize("raw", ["", "a,,b", "a,", "a b", "{{x}}", "a;id"])
def test_malformed_tag_lists_are_refused(raw: str) -> None:
    with pytest.raises(BadInput, match="^--tags "):
        check_tags(SCENARIO, [raw], "--tags")


@pytest.mark.parametrize("scenario", [SCENARIO, TAGGED])
def test_skipping_always_is_refused_it_holds_the_input_checks_and_the_lock(scenario: Scenario) -> None:
    with pytest.raises(BadInput, match="--skip-tags always would skip the input checks and the run lock"):
        check_tags(scenario, ["diagnose,always"], "--skip-tags")


@pytest.mark.parametrize(("typo", "meant"), [("app_servce", "app_service"), ("app_webhok_path", "app_webhook_path"),
                                             ("app_ngnix_site", "app_nginx_site")])
def test_a_mistyped_layout_variable_gets_a_did_you_mean(typo: str, meant: str) -> None:
    with pytest.raises(BadInput, match=f"does not accept -e {typo}; did you mean {meant}\\?"):
        check_extra_vars(SCENARIO, {typo: "x"})
