# SPDX-License-Identifier: GPL-3.0-or-later
"""Secrets never stay in what a run keeps or prints."""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType

import pytest

from ansible_collections.runbook.ops.plugins.filter import runbook_redact
from loading import FILTERS

from runbook.redact import REDACTED, Redactor, looks_secret, mask, redact_text, strip_ansi

SECRET = "hunter2-correct-horse"
ROOT = Path(__file__).resolve().parents[1]
FILTER_PLUGIN = FILTERS / "runbook_redact.py"
SHA = "3f2a9c1d4e5b6a79801122334455667788990abc"
DIGEST = "sha256:" + "9b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c"
SENTRY_KEY = "0123456789abcdef0123456789abcdef"
JWT = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
GITHUB_TOKEN = "ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789"
PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA1c7+9z\nQ2x0ZXN0a2V5Zm9ydGVzdHM=\n-----END RSA PRIVATE KEY-----"

# (line as it reaches stdout, job events or the terminal; the secret in it; what must stay readable)
SECRET_SHAPES = [
    ("api-1  | STRIPE_SECRET_KEY=sk_live_51HxYzAbCdEf0123456789", "51HxYzAbCdEf0123456789", "api-1  | STRIPE_SECRET_KEY="),
    ("worker-1  | DB_PASSWORD=hunter2-horse", "hunter2-horse", "worker-1  | DB_PASSWORD="),
    (f"export GITHUB_TOKEN={GITHUB_TOKEN}", GITHUB_TOKEN, "export GITHUB_TOKEN="),
    ("  api_key: abcdef123456", "abcdef123456", "  api_key: "),
    ('DB_PASSWORD="correct horse battery" PORT=3000', "correct horse", 'DB_PASSWORD="'),
    ("SECRET_KEY_BASE='a1b2c3d4e5f6'", "a1b2c3d4e5f6", "SECRET_KEY_BASE='"),
    ("DATABASE_URL=postgresql://app:pa/ss+w0rd@db:5432/app", "pa/ss+w0rd", "DATABASE_URL=postgresql://app:"),
    ("REDIS_URL=redis://:s3cr3tpw@redis:6379/0", "s3cr3tpw", "REDIS_URL=redis://:"),
    ("amqp://guest:gu/est+pw@rabbit:5672/", "gu/est+pw", "amqp://guest:"),
    ("mongodb+srv://app:p%40ss:w0rd@cluster0.mongodb.net/db", "p%40ss:w0rd", "mongodb+srv://app:"),
    ("GET /callback?password=hunter22&page=2 HTTP/1.1", "hunter22", "GET /callback?password="),
    ("GET /callback?user=bob&token=abc123xyz HTTP/1.1", "abc123xyz", "GET /callback?user=bob&token="),
    ("https://api.example.com/v1/charges?limit=3&api_key=abc123def456", "abc123def456", "/v1/charges?limit=3&api_key="),
    ("Authorization: Bearer abc123.def456-ghi", "abc123.def456", "Authorization: Bearer "),
    ("authorization: Basic dXNlcjpwYXNzd29yZA==", "dXNlcjpwYXNzd29yZA", "authorization: Basic "),
    ('curl -H "Authorization: Bearer 0123abcd4567ef" https://api.example.com', "0123abcd4567ef", '-H "Authorization: Bearer '),
    ('{"headers": {"Authorization": "Token 9f8e7d6c5b4a"}}', "9f8e7d6c5b4a", '{"headers": {"Authorization": "Token '),
    ("api-1  | calling upstream with Bearer 9f8e7d6c5b4a39281706", "9f8e7d6c5b4a39281706", "api-1  | calling upstream with Bearer "),
    (f"SENTRY_DSN=https://{SENTRY_KEY}@o123456.ingest.sentry.io/4505", SENTRY_KEY, "SENTRY_DSN=https://"),
    (f"dsn: https://{SENTRY_KEY}:fedcba9876543210fedcba9876543210@sentry.example.com/2", "fedcba98765", "dsn: https://"),
    ('{"password": "hunter2-horse", "user": "bob"}', "hunter2-horse", '{"password": "'),
    ("{'secret': 'y-value-123'}", "y-value-123", "{'secret': '"),
    ('{"api_key":"zzz-123456"}', "zzz-123456", '{"api_key":"'),
    ('ok: [web1] => {"msg": "{\\"token\\": \\"abc-123-xyz\\"}"}', "abc-123-xyz", '{\\"token\\": \\"'),
    ('{"db_password": 987654321}', "987654321", '{"db_password": '),
    ("api-1  | charging with sk_test_4eC39HqLyjWDarjtT1zdp7dc", "4eC39HqLyjWDarjtT1zdp7dc", "api-1  | charging with sk_test_"),
    ("worker-1  | restricted key rk_live_51HxYzAbCdEf0123", "51HxYzAbCdEf0123", "worker-1  | restricted key rk_live_"),
    ("using rk_test_51HxYzAbCdEf0123 for reports", "51HxYzAbCdEf0123", "using rk_test_"),
    ("api-1  | webhook secret whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "api-1  | webhook secret whsec_"),
    (f"api-1  | token verified {JWT}", "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c", "api-1  | token verified "),
    (f"Authorization: Bearer {JWT}", "eyJzdWIiOiIxMjM0NTY3ODkwIn0", "Authorization: Bearer "),
    (f"ssh_key:\n{PEM}\nafter", "MIIEpAIBAAKCAQEA1c7", "-----BEGIN RSA PRIVATE KEY-----"),
    ("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----",
     "b3BlbnNzaC1rZXktdjEAAAAA", "-----END OPENSSH PRIVATE KEY-----"),
    ("-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0B (cut off)", "MIIEvQIBADANBgkqhkiG9w0B", "-----BEGIN PRIVATE KEY-----"),
    ("aws_access_key_id = AKIAIOSFODNN7EXAMPLE", "IOSFODNN7EXAMPLE", "aws_access_key_id = AKIA"),
    ("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "wJalrXUtnFEMI", "aws_secret_access_key = "),
    (f"remote: https://{GITHUB_TOKEN}@github.com/org/repo.git", GITHUB_TOKEN[4:], "remote: https://ghp_"),
    ("https://x-access-token:ghs_16C7e42F292c6912E7710c838347Ae178B4a@github.com/org/repo", "16C7e42F292c",
     "https://x-access-token:"),
    ("token github_pat_11ABCDEFG0abcdefghijklmnopqrstuvwxyz0123", "11ABCDEFG0abcdefghij", "token github_pat_"),
    ("slack: xoxb-1234567890-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx", "AbCdEfGhIjKlMnOpQrStUvWx", "slack: xoxb-"),
    ("SLACK_USER=bot xoxp-2222222222-3333333333-abcdefabcdef", "abcdefabcdef", "SLACK_USER=bot xoxp-"),
    ("ansible-playbook site.yml --vault-password=hunter2-horse -v", "hunter2-horse", "ansible-playbook site.yml --vault-password="),
    ("X-Api-Key: abcdef0123456789", "abcdef0123456789", "X-Api-Key: "),
    ("Cookie: session=abc123def456", "abc123def456", "Cookie: "),
    ("api-1  | 2024-05-01T12:00:00.123Z password: hunter2-horse", "hunter2-horse", "api-1  | 2024-05-01T12:00:00.123Z password: "),
    ("spring.datasource.password=hunter2-horse", "hunter2-horse", "spring.datasource.password="),
    ("\x1b[2K\x1b[31mapi-1  | DB_PASSWORD=hunter2-horse\x1b[0m", "hunter2-horse", "api-1  | DB_PASSWORD="),
    ("\\x1b[2K\\x1b[31mapi-1  | DB_PASSWORD=hunter2-horse\\x1b[0m", "hunter2-horse", "api-1  | DB_PASSWORD="),
    ("password=hunter2-horse state=present", "hunter2-horse", "password="),
    ("client_secret = abc def ghi", "def ghi", "client_secret = "),
    # issue 24 item 15: shapes that leaked before
    ("curl -H 'Authorization: Basic dXNlcjpwYXNzd29yZA==' http://localhost:3000/admin", "dXNlcjpwYXNzd29yZA",
     "curl -H 'Authorization: Basic "),
    ("X-Authorization: Basic dXNlcjpwYXNzd29yZA==", "dXNlcjpwYXNzd29yZA", "X-Authorization: Basic "),
    ("HTTP_AUTHORIZATION=Basic YWRtaW46aHVudGVyMg==", "YWRtaW46aHVudGVyMg", "HTTP_AUTHORIZATION=Basic "),
    ("nginx  | upstream sent Basic YWRtaW46aHVudGVyMg== to /admin", "YWRtaW46aHVudGVyMg", "nginx  | upstream sent Basic "),
    ("RUNBOOK_NOTIFY_URL=https://hooks.slack.com/services/T0AAAAAAA/B0BBBBBBB/abcdEFGHijklMNOPqrstUVWX",
     "abcdEFGHijklMNOPqrstUVWX", "https://hooks.slack.com/services/"),
    ("posted to https://hooks.slack.com/workflows/T0AAAAAAA/A0CCCCCCC/123/xyzXYZ0123456789", "xyzXYZ0123456789",
     "posted to https://hooks.slack.com/workflows/"),
    ("POST https://discord.com/api/webhooks/123456789012345678/AbC-dEf_GhIjKlMnOpQrStUvWxYz0123 204",
     "AbC-dEf_GhIjKlMnOpQrStUvWxYz0123", "POST https://discord.com/api/webhooks/123456789012345678/"),
    ("https://api.telegram.org/bot123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/sendMessage?chat_id=42",
     "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw", "https://api.telegram.org/bot"),
    ("DATABASE_URL=postgresql://app:p@ss@db:5432/app", "ss@db", "DATABASE_URL=postgresql://app:"),
    ("redis://:pw@with@two@cache:6379/0", "with@two", "redis://:"),
    ("mysqldump -u backup -pHunter2horse app > app.sql", "Hunter2horse", "mysqldump -u backup -p"),
    ("docker exec db mariadb -uroot -pHunter2horse -e 'select 1'", "Hunter2horse", "docker exec db mariadb -uroot -p"),
    ("redis-cli -h 127.0.0.1 -a Hunter2horse FLUSHALL", "Hunter2horse", "redis-cli -h 127.0.0.1 -a "),
    ("pg_tool --db-password Hunter2horse --host db", "Hunter2horse", "pg_tool --db-password "),
    ("deploy --api-token 'abc def ghi' --yes", "abc def", "deploy --api-token '"),
    ("curl -u admin:Hunter2horse http://localhost:3000/admin", "Hunter2horse", "curl -u admin:"),
    ("curl --user=admin:Hunter2horse http://localhost:3000/admin", "Hunter2horse", "curl --user=admin:"),
]

# Lines that must come out exactly as they went in.
NEAR_MISSES = [
    "api-1  | deploying commit 3f2a9c1",
    f"HEAD is now at {SHA} Fix login",
    "task_uuid=0242ac11-0002-5c0e-8b52-000000000012 request 6f1c9e2a-3b4d-4c5e-8f9a-0b1c2d3e4f5a",
    f"image: registry.example.com/app@{DIGEST}",
    f"Digest: {DIGEST}",
    "a1b2c3d4e5f6   registry/app:1.4.2   Up 2 hours (healthy)   0.0.0.0:3000->3000/tcp   app-api-1",
    "api-1  | 2024-05-01T12:34:56.789Z GET /health 200 3ms",
    "KEY_ID=4f1c2a9b",
    "POSTGRES_PASSWORD_FILE=/run/secrets/db_password",
    "PORT=3000",
    "NODE_ENV=production",
    "ENABLE_STRIPE_PAYMENTS=true",
    "AUTH_ENABLED=true REQUIRE_AUTH=yes",
    "DB_PASSWORD=${DB_PASSWORD} REDIS_PASSWORD=$REDIS_PASSWORD",
    "DB_PASSWORD=",
    "monkey=1",
    "STRIPE_PUBLISHABLE_KEY=pk_live_51HxYzAbCdEf0123456789",
    "STRIPE_KEY=pk_test_51HxYzAbCdEf0123456789",
    "NEXT_PUBLIC_API_KEY=abc123",
    "https://example.com/search?q=runbook&page=2",
    "curl -fsS http://localhost:3000/health",
    "redis://redis:6379/0 postgresql://db:5432/app",
    "http://host:8080/users/bob@example.com",
    "git@github.com:org/repo.git",
    "keyboard layout: us",
    "tokenizer=bert-base-uncased max_tokens=256",
    "author: runbook passed=3 bypass=0",
    "HTTP/1.1 401 Unauthorized",
    "api-1  | ERROR: connection to db failed: timeout after 5000ms",
    "/etc/ssl/private/server.key",
    'WWW-Authenticate: Bearer realm="api", error="invalid_token"',
    "the API uses Bearer authentication",
    "Authorization: Bearer",
    "Authorization header missing",
    "web1 : ok=5 changed=1 unreachable=0 failed=0 skipped=2 rescued=0 ignored=0",
    "TASK [health_check : Poll the health check until it answers 200] ***",
    "Rotate the api key :done, t1, 2024-05-01 10:00:00, 3s",
    "eyJhbGciOiJIUzI1NiJ9 is a JWT header alone",
    "sk_live_ is the prefix of a live key",
    "Server: nginx/1.22.1\nDate: Wed, 01 May 2024 12:00:00 GMT",
    # near misses of issue 24 item 15's shapes
    'WWW-Authenticate: Basic realm="admin", charset="UTF-8"',
    "Basic authentication is disabled for /health",
    "https://hooks.slack.com/ is the webhook host",
    "https://discord.com/channels/123456789012345678/987654321098765432",
    "https://api.telegram.org/ answered 401",
    "postgresql://app@db:5432/app and admin@example.com",
    "docker run -p8080:80 -p 443:443 app",
    "ssh -p2222 -o BatchMode=yes root@host",
    "mkdir -p /var/lib/runbook && mysql -u root -p app",
    "redis-cli -h 127.0.0.1 ping",
    "tool --password-file /etc/app/pw --token-url https://auth/x --no-password db",
    "ls --color auto --sort size",
    "curl -u admin http://localhost:3000/admin",
]


def _filter_plugin() -> ModuleType:
    return runbook_redact


@pytest.mark.parametrize(
    "name",
    ["password", "db_password", "DB_PASS", "STRIPE_SECRET_KEY", "api_key", "apiToken", "GITHUB_TOKEN",
     "ssh_private_key", "dbpassword", "AUTH", "client_secret", "X-Api-Key", "spring.datasource.password", "Cookie",
     # a whole command line may carry a credential (redis-cli -a PW): security.yml's sessions_command
     "sessions_command", "sessionsCommand"],
)
def test_names_that_look_secret(name: str) -> None:
    assert looks_secret(name)


@pytest.mark.parametrize(
    "name",
    ["commit", "payments", "force_renewal", "passed", "bypass", "monkey", "changed", "host", "task_uuid", "stdout",
     "keyboard", "tokenizer", "max_tokens", "author", "KEY_ID", "aws_access_key_id", "PASSWORD_FILE", "ssh_key_path",
     "STRIPE_PUBLISHABLE_KEY", "NEXT_PUBLIC_API_KEY", "Authorization", "command", "cmd", ""],
)
def test_names_that_do_not(name: str) -> None:
    assert not looks_secret(name)


def test_mask() -> None:
    assert mask("api_token", "abc") == REDACTED
    assert mask("commit", "abc1234") == "abc1234"


@pytest.mark.parametrize(("line", "secret", "readable"), SECRET_SHAPES, ids=[shape[2].strip() for shape in SECRET_SHAPES])
def test_secret_shapes_are_redacted(line: str, secret: str, readable: str) -> None:
    assert secret in line and readable in line.replace("\x1b[2K\x1b[31m", "").replace("\\x1b[2K\\x1b[31m", "")
    cleaned = redact_text(line)
    assert secret not in cleaned
    assert REDACTED in cleaned
    assert readable in cleaned
    assert redact_text(cleaned) == cleaned  # redacting twice changes nothing more
    assert Redactor().text(line) == cleaned


def test_table_sizes() -> None:
    assert len(SECRET_SHAPES) >= 30
    assert len(NEAR_MISSES) >= 25


@pytest.mark.parametrize("line", NEAR_MISSES)
def test_near_misses_stay_readable(line: str) -> None:
    assert redact_text(line) == line
    assert Redactor().text(line) == line


def test_query_parameters_each_redacted() -> None:
    cleaned = redact_text("GET /cb?password=hunter22&token=abc123xyz&page=2 HTTP/1.1")
    assert cleaned == f"GET /cb?password={REDACTED}&token={REDACTED}&page=2 HTTP/1.1"
    assert redact_text("GET /login?next=/a?token=abc123&x=1") == f"GET /login?next=/a?token={REDACTED}&x=1"


def test_values_keep_their_quotes_and_the_line_goes_on() -> None:
    assert redact_text('DB_PASSWORD="a b" PORT=3000') == f'DB_PASSWORD="{REDACTED}" PORT=3000'
    assert redact_text("TOKEN=abc def --api-key=xyz") == f"TOKEN={REDACTED} --api-key={REDACTED}"
    assert redact_text("token=a\nkey=b c=d\nPORT=1") == f"token={REDACTED}\nkey={REDACTED} c=d\nPORT=1"


def test_pem_block_is_one_redaction_and_the_rest_stays() -> None:
    cleaned = redact_text(f"before\n{PEM}\nafter PORT=3000")
    assert cleaned == f"before\n-----BEGIN RSA PRIVATE KEY-----{REDACTED}-----END RSA PRIVATE KEY-----\nafter PORT=3000"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("\x1b[31mred\x1b[0m plain", "red plain"),
        ("\x1b[2K\rprogress", "\rprogress"),
        ("\x1b[1;32mok\x1b[39;49m", "ok"),
        ("\x1b]0;title\x07after", "after"),
        ("\\x1b[2K\\x1b[31mred\\x1b[0m", "red"),
        ("\\u001b[33mwarn\\u001b[0m", "warn"),
        ("C:\\x1 and 10[2K] stay", "C:\\x1 and 10[2K] stay"),
    ],
)
def test_strip_ansi(text: str, expected: str) -> None:
    assert strip_ansi(text) == expected
    assert redact_text(text) == expected


@pytest.mark.parametrize(
    "line",
    [
        "a" * 1_000_000,
        "key=" * 250_000,
        "a=" * 500_000,
        "password=" + " a=" * 300_000,
        "a://b:" * 160_000,
        "eyJ" * 330_000,
        '"a": "' * 160_000,
        "?a=b&" * 200_000,
        "Bearer " * 140_000,
        "-----BEGIN PRIVATE KEY-----" + "x" * 1_000_000,
        "\x1b]" * 500_000,
        "mysql " * 160_000,
        "redis-cli -a" * 80_000,
        "p://u:" + "@" * 1_000_000,
        "--password " * 90_000,
        "hooks.slack.com/services/" * 40_000,
        "Basic " * 160_000,
        "api-1  | STRIPE_SECRET_KEY=sk_live_abc PORT=3000 http://localhost:3000/health\n" * 12_500,
    ],
    ids=["letters", "key=", "a=", "password-then-assignments", "schemes", "eyJ", "quotes", "query", "bearer", "pem",
         "osc", "mysql", "redis-cli", "at-signs", "long-options", "slack", "basic", "log"],
)
def test_megabyte_lines_finish(line: str) -> None:
    assert isinstance(redact_text(line), str)


def test_known_values_are_replaced_also_json_escaped() -> None:
    tricky = 'pa"ss\\word-1'
    redactor = Redactor([SECRET, tricky, "on"])  # too short values are not scrubbed
    text = f"echo {SECRET}; {json.dumps({'v': tricky})} turned on"
    cleaned = redactor.text(text)
    assert SECRET not in cleaned
    assert "ss\\\\word" not in cleaned
    assert "turned on" in cleaned


def test_known_values_shorter_than_four_characters_stay() -> None:
    assert Redactor(["abc", "abcd"]).text("abc abcd") == f"abc {REDACTED}"


def test_env_file_lines_and_url_credentials() -> None:
    text = "NODE_ENV=production\nSTRIPE_SECRET_KEY=sk_live_abc\nexport DB_PASSWORD = p@ss w0rd\n" \
           "DATABASE_URL=postgres://app:s3cr3tpw@db:5432/app\npassword: yaml-style\n"
    cleaned = Redactor().text(text)
    assert "NODE_ENV=production" in cleaned
    assert f"STRIPE_SECRET_KEY={REDACTED}" in cleaned
    assert f"export DB_PASSWORD = {REDACTED}" in cleaned
    assert f"postgres://app:{REDACTED}@db:5432/app" in cleaned
    assert f"password: {REDACTED}" in cleaned
    for leaked in ("sk_live_abc", "p@ss", "w0rd", "s3cr3tpw", "yaml-style"):
        assert leaked not in cleaned


def test_data_masks_numbers_under_secret_keys() -> None:
    """A numeric PIN or API secret in a JSON artifact is a secret too; flags, nulls and other numbers stay."""
    data = {"pin_secret": 1234, "db_password": 87654321, "api_key": 3.14159, "auth": True, "token": None,
            "port": 22, "results": [{"otp_token": 424242, "changed": False}]}
    assert Redactor().data(data) == {"pin_secret": REDACTED, "db_password": REDACTED, "api_key": REDACTED,
                                     "auth": True, "token": None, "port": 22,
                                     "results": [{"otp_token": REDACTED, "changed": False}]}


def test_data_redacts_an_authorization_header_under_its_plain_name() -> None:
    data = {"headers": {"Authorization": "Basic dXNlcjpwYXNzd29yZA==", "Accept": "application/json"}}
    assert Redactor().data(data) == {"headers": {"Authorization": f"Basic {REDACTED}", "Accept": "application/json"}}


def test_data_masks_secret_keys_and_keeps_structure() -> None:
    data = {"api_key": "k-123456", "passed": True, "nested": [{"token": "t-123456", "n": 1}], "msg": f"x {SECRET}"}
    cleaned = Redactor([SECRET]).data(data)
    assert cleaned == {"api_key": REDACTED, "passed": True, "nested": [{"token": REDACTED, "n": 1}], "msg": f"x {REDACTED}"}


def test_data_applies_the_text_rules_to_strings() -> None:
    cleaned = Redactor().data({"stdout_lines": ["\x1b[32mapi-1  | STRIPE_SECRET_KEY=sk_live_abc123\x1b[0m", "PORT=3000"]})
    assert cleaned == {"stdout_lines": [f"api-1  | STRIPE_SECRET_KEY={REDACTED}", "PORT=3000"]}


def test_event_drops_task_args_and_invocation() -> None:
    event = {
        "event": "runner_on_ok",
        "stdout": f"ok: [web1] => {SECRET}",
        "event_data": {
            "task_args": f"password={SECRET}",
            "res": {"invocation": {"module_args": {"x": SECRET}}, "stdout": SECRET,
                    "results": [{"invocation": {"module_args": {}}, "item": 1}]},
        },
    }
    Redactor([SECRET]).event(event)
    assert "task_args" not in event["event_data"]
    assert "invocation" not in event["event_data"]["res"]
    assert "invocation" not in event["event_data"]["res"]["results"][0]
    assert SECRET not in json.dumps(event)


def test_tree_scrubs_every_file_and_the_command_environment(tmp_path: Path) -> None:
    (tmp_path / "job_events").mkdir()
    (tmp_path / "job_events" / "1-a.json").write_text(json.dumps({"stdout": SECRET}))
    (tmp_path / "job_events" / "2-b.json").write_text(json.dumps({"stdout": "api-1  | DB_PASSWORD=pw-from-logs"}))
    (tmp_path / "stdout").write_text(f"line {SECRET}\napi-1  | STRIPE_SECRET_KEY=sk_live_abc123\n")
    (tmp_path / "command").write_text(json.dumps({"command": ["ansible-playbook", "-e", SECRET],
                                                  "env": {"HOME": "/root", "AWS_SECRET": "zzzzzzzz"}}))
    untouched = tmp_path / "run.json"
    untouched.write_text('{\n  "a": 1\n}\n')
    Redactor([SECRET]).tree(tmp_path)
    for path in tmp_path.rglob("*"):
        if path.is_file():
            text = path.read_text()
            for leaked in (SECRET, "pw-from-logs", "sk_live_abc123"):
                assert leaked not in text, path
    command = json.loads((tmp_path / "command").read_text())
    assert command["env"] == {"HOME": REDACTED, "AWS_SECRET": REDACTED}
    assert untouched.read_text() == '{\n  "a": 1\n}\n'
    assert oct((tmp_path / "stdout").stat().st_mode & 0o777) == "0o600"


def test_a_second_tree_pass_rereads_only_files_written_since(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    clean, later = tmp_path / "clean.json", tmp_path / "report.md"
    clean.write_text(json.dumps({"stdout": SECRET}))
    redactor = Redactor([SECRET])
    redactor.tree(tmp_path)
    scrubbed = clean.read_text()
    assert SECRET not in scrubbed
    read: list[Path] = []
    original = Path.read_text

    def counting(path: Path, *args: object, **kwargs: object) -> str:
        read.append(path)
        return original(path, *args, **kwargs)

    later.write_text(f"written after the first pass: {SECRET}\n")
    with monkeypatch.context() as patch:
        patch.setattr(Path, "read_text", counting)
        redactor.tree(tmp_path)
    assert read == [later]  # the clean file, unchanged, is not read again
    assert SECRET not in later.read_text() and clean.read_text() == scrubbed
    clean.write_text(json.dumps({"stdout": f"changed {SECRET}"}))  # a new version is scrubbed again
    redactor.tree(tmp_path)
    assert SECRET not in clean.read_text()


def test_filter_plugin_gives_the_same_result_as_redact_text() -> None:
    runbook_redact = _filter_plugin().FilterModule().filters()["runbook_redact"]
    lines = [shape[0] for shape in SECRET_SHAPES] + NEAR_MISSES
    for line in lines:
        assert runbook_redact(line) == redact_text(line)
    assert runbook_redact(lines) == [redact_text(line) for line in lines]
    assert runbook_redact(None) is None
    assert runbook_redact(["PORT=3000", None]) == ["PORT=3000", None]
    with pytest.raises(TypeError):
        runbook_redact(5)
