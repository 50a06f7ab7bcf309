# SPDX-License-Identifier: GPL-3.0-or-later
"""The modules behind payments.yml and database.yml, run as Ansible runs them
(a JSON args file), on a real .env: they report key modes and variable names,
never a value, and the database password reaches pg_isready/psql only through
their environment, never their argv."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ansible_collections.runbook.ops.plugins.modules import (database_check_probe, payments_switch_env,
                                                             payments_switch_services)
from loading import MODULES, module_command

ROOT = Path(__file__).resolve().parents[4]
PAYMENTS = MODULES / "payments_switch_env.py"
DATABASE = MODULES / "database_check_probe.py"
SECRET = "sk_test_" + "A1b2C3d4E5f6G7h8I9j0K1l2"
PASSWORD = "pw-Zq8v7Xr6Wt5Ys4"
ENV = f"""NODE_ENV=production
DATABASE_URL=postgresql://echoel:{PASSWORD}@127.0.0.1:5433/echoelmusic
SUPABASE_URL=https://fixture.supabase.invalid
STRIPE_SECRET_KEY={SECRET}
export STRIPE_PUBLISHABLE_KEY="pk_live_{'Q' * 24}"
STRIPE_WEBHOOK_SECRET=whsec_{'w' * 24}
ENABLE_STRIPE_PAYMENTS=false
"""


def run_module(path: Path, args: dict, tmp_path: Path, env: dict | None = None) -> tuple[dict, str]:
    """The module's JSON result and its whole output, run as Ansible would run it."""
    args_file = tmp_path / "args.json"
    args_file.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
    proc = subprocess.run(module_command(path, args_file), capture_output=True, text=True,
                          env=env or dict(os.environ), timeout=60)
    return json.loads(proc.stdout), proc.stdout + proc.stderr


@pytest.fixture()
def env_file(tmp_path: Path) -> Path:
    path = tmp_path / ".env"
    path.write_text(ENV)
    path.chmod(0o600)
    return path


def test_payments_reports_modes_never_values(env_file, tmp_path):
    result, output = run_module(PAYMENTS, {"path": str(env_file)}, tmp_path)
    assert result["keys"] == {"STRIPE_SECRET_KEY": "test", "STRIPE_PUBLISHABLE_KEY": "live",
                              "STRIPE_WEBHOOK_SECRET": "present"}
    assert result["keys_consistent"] is False
    assert result["keys_finding"] == "the keys' modes differ: STRIPE_SECRET_KEY is test, STRIPE_PUBLISHABLE_KEY is live"
    assert (result["enabled"], result["switch_value"], result["mode"]) == (False, "false", "0600")
    assert result["changed"] is False
    for line in ENV.splitlines():
        value = line.split("=", 1)[1].strip('"')
        if len(value) >= 12:
            assert value not in output


@pytest.mark.parametrize(("secret", "publishable", "consistent", "finding"), [
    ("sk_live_x", "pk_live_y", True, "both keys are live keys"),
    ("rk_test_x", "pk_test_y", True, "both keys are test keys"),
    ("sk_test_x", "", False, "missing: STRIPE_PUBLISHABLE_KEY"),
    ("", "", False, "missing: STRIPE_SECRET_KEY, STRIPE_PUBLISHABLE_KEY"),
    ("whatever", "pk_test_y", False, "the keys' modes differ: STRIPE_SECRET_KEY is unknown, STRIPE_PUBLISHABLE_KEY is test"),
])
def test_payments_key_findings(secret, publishable, consistent, finding):
    mod = payments_switch_env
    values = {"STRIPE_SECRET_KEY": secret, "STRIPE_PUBLISHABLE_KEY": publishable}
    summary = mod.summarise(values, "ENABLE_STRIPE_PAYMENTS")
    assert (summary["keys_consistent"], summary["keys_finding"]) == (consistent, finding)


def test_payments_switch_value_shown_only_when_a_plain_word():
    mod = payments_switch_env
    assert mod.summarise({"ENABLE_STRIPE_PAYMENTS": " TRUE "}, "ENABLE_STRIPE_PAYMENTS")["enabled"] is True
    assert mod.summarise({"ENABLE_STRIPE_PAYMENTS": "sk_live_zzz"}, "ENABLE_STRIPE_PAYMENTS")["switch_value"] == "(other)"
    assert mod.summarise({}, "ENABLE_STRIPE_PAYMENTS")["switch_present"] is False


def _fake_clients(tmp_path: Path, ready_rc: int) -> Path:
    """pg_isready and psql that record their argv and PG* environment, as the real ones would see them."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    record = tmp_path / "calls.jsonl"
    for name, rc, out in (("pg_isready", ready_rc, "127.0.0.1:5433 - accepting connections"), ("psql", 0, "1")):
        script = bin_dir / name
        script.write_text(
            f"#!{sys.executable}\n"
            "import json, os, sys\n"
            f"with open({str(record)!r}, 'a') as fh:\n"
            "    fh.write(json.dumps({'argv': sys.argv, 'env': {k: v for k, v in os.environ.items() if k.startswith('PG')}}) + '\\n')\n"
            f"print({out!r})\n"
            f"sys.exit({rc})\n")
        script.chmod(0o755)
    return bin_dir


def test_database_password_only_in_the_clients_environment(env_file, tmp_path):
    bin_dir = _fake_clients(tmp_path, ready_rc=0)
    env = dict(os.environ, PATH=f"{bin_dir}:{os.environ['PATH']}")
    args = {"path": str(env_file), "variables": ["DATABASE_URL", "SUPABASE_URL", "SUPABASE_SERVICE_KEY"]}
    result, output = run_module(DATABASE, args, tmp_path, env)
    assert result["present"] == {"DATABASE_URL": True, "SUPABASE_URL": True, "SUPABASE_SERVICE_KEY": False}
    assert (result["target"], result["ready"], result["select_ok"], result["answers"]) == (
        "127.0.0.1:5433/echoelmusic", True, True, True)
    assert PASSWORD not in output and "postgresql://" not in output
    calls = [json.loads(line) for line in (tmp_path / "calls.jsonl").read_text().splitlines()]
    assert [Path(call["argv"][0]).name for call in calls] == ["pg_isready", "psql"]
    for call in calls:
        assert not any(PASSWORD in arg for arg in call["argv"])
        assert call["env"]["PGPASSWORD"] == PASSWORD
        assert (call["env"]["PGHOST"], call["env"]["PGPORT"], call["env"]["PGUSER"]) == ("127.0.0.1", "5433", "echoel")


def test_database_that_does_not_answer(env_file, tmp_path):
    bin_dir = _fake_clients(tmp_path, ready_rc=2)
    env = dict(os.environ, PATH=f"{bin_dir}:{os.environ['PATH']}")
    result, _ = run_module(DATABASE, {"path": str(env_file)}, tmp_path, env)
    assert (result["ready"], result["answers"]) == (False, False)


def test_database_without_url(tmp_path):
    path = tmp_path / ".env"
    path.write_text("NODE_ENV=production\n")
    result, _ = run_module(DATABASE, {"path": str(path)}, tmp_path)
    assert result["answers"] is False
    assert result["ready_message"] == "DATABASE_URL is not set"
    assert result["present"] == {"DATABASE_URL": False}


def test_database_scrub_hides_the_password():
    mod = database_check_probe
    assert mod.scrub(f"psql: error: password {PASSWORD} rejected\nmore", [PASSWORD]) == "psql: error: password ******** rejected"


SERVICES = MODULES / "payments_switch_services.py"


def test_payments_services_reading_the_switch():
    """Every service on the .env (as compose prints it, uninterpolated) or carrying the switch is named."""
    mod = payments_switch_services
    config = {"services": {
        "api": {"env_file": [{"path": "/srv/app/.env", "required": True}]},
        "worker": {"env_file": ["/srv/app/.env"]},
        "mailer": {"environment": {"PAYMENTS": "${ENABLE_STRIPE_PAYMENTS:-false}"}},
        "cron": {"environment": ["ENABLE_STRIPE_PAYMENTS=$ENABLE_STRIPE_PAYMENTS"]},
        "redis": {"environment": {"ENABLE_STRIPE_PAYMENTS_X": "1"}},
        "web": {"env_file": [{"path": "/srv/app/web.env"}]},
    }}
    assert mod.reading_services(config, "/srv/app", "/srv/app/.env", "ENABLE_STRIPE_PAYMENTS") == [
        "api", "cron", "mailer", "worker"]


def test_payments_services_stale_and_not_running():
    mod = payments_switch_services
    containers = [
        {"Service": "api", "ID": "a1", "State": "running"},
        {"Service": "worker", "ID": "w1", "State": "running"},
        {"Service": "cron", "ID": "c1", "State": "exited"},
        {"Service": "redis", "ID": "r1", "State": "running"},
    ]
    values = {"a1": "false", "w1": mod.switch_value(["A=b", "ENABLE_STRIPE_PAYMENTS=True"], "ENABLE_STRIPE_PAYMENTS"),
              "c1": "true", "r1": "true"}
    result = mod.summarise(["api", "cron", "worker"], containers, values, "false")
    assert result == {"services": ["api", "cron", "worker"], "running": {"api": ["false"], "worker": ["true"]},
                      "stale": ["worker"], "not_running": ["cron"]}
    assert mod.summarise(["api", "worker"], containers, values, "")["stale"] == []
    assert mod.switch_value(["ENABLE_STRIPE_PAYMENTS=sk_live_x"], "ENABLE_STRIPE_PAYMENTS") == "(other)"
    assert mod.switch_value([], "ENABLE_STRIPE_PAYMENTS") == "(unset)"


def test_payments_services_parse_ps_both_formats():
    mod = payments_switch_services
    assert mod.parse_ps('{"ID": "a"}\n{"ID": "b"}\n') == [{"ID": "a"}, {"ID": "b"}]
    assert mod.parse_ps('[{"ID": "a"}]') == [{"ID": "a"}]
    assert mod.parse_ps("") == []
