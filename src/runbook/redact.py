# SPDX-License-Identifier: GPL-3.0-or-later
"""Keep secrets out of everything a run writes or prints.

Layers, applied to every kept file and every line we print:
- known secret values (the -e values whose names look secret) are replaced
  wherever they appear, also in their JSON-escaped form. Values shorter than
  MIN_SECRET_LENGTH (4) characters are NOT scrubbed: replacing every `on`,
  `42` or `abc` in the output would wreck it, and such values are not secrets
  worth the name anyway;
- in JSON data, string values under keys whose names look secret;
- in text, `redact_text`: rules that need no list of known values (below).
Ansible itself censors results of `no_log` tasks; we also drop `task_args`
and module invocation arguments from events, and the environment from the
`command` artifact.

`redact_text` first strips ANSI escape sequences (real ESC bytes, and the
printed forms `\\x1b[`, `\\u001b[`, `\\033[`), then replaces:
- PEM private key blocks (BEGIN ... PRIVATE KEY ... END; to the end of the
  text when the END line is missing);
- token shapes anywhere, keeping their type prefix: Stripe secret, restricted
  and webhook keys (`sk_live_`, `sk_test_`, `rk_live_`, `rk_test_`, `whsec_`),
  GitHub tokens (`ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_`, `github_pat_`), Slack
  tokens (`xoxb-` ...), AWS access key ids (`AKIA`/`ASIA` + 16), and JWTs
  (`eyJ...` three dot-separated base64url parts, replaced whole);
- the key of a Sentry DSN (`https://<32 hex>[:<32 hex>]@host/project`);
- the secret part of a webhook URL whose path is its credential: Slack
  (`hooks.slack.com/services/...`, also `/workflows/` and `/triggers/`),
  Discord (`/api/webhooks/<id>/<token>`) and Telegram (`/bot<token>/`);
- the password of `scheme://user:password@host` (it may contain `/`, `+`, and
  an unescaped `@` when another `@` follows: `postgresql://app:p@ss@db`;
  `redis://:password@host` too), and of `curl -u user:password`;
- the credentials of an `Authorization:` header, also behind a prefix
  (`X-Authorization:`, `HTTP_AUTHORIZATION=`; the scheme stays readable), and
  a token after `Bearer ` or `Basic ` (one with a digit or one of `_-+/~=`, or
  of 20 characters or more, so prose such as "Bearer authentication" stays);
- a command-line password: `mysql`/`mariadb`/`mysqldump`/`mysqladmin`'s
  `-pPASSWORD`, `redis-cli`'s `-a PASSWORD`, and the value after a long
  option whose name looks secret (`--db-password X`, `--token X`);
- values under secret-looking quoted keys: `"password": "x"`, `'secret': 'y'`,
  `"api_key":"z"`, `"pin_secret": 1234`, also JSON-escaped `\\"token\\": \\"x\\"`;
- secret-looking query parameters: `?password=x&token=y`, `&api_key=z`;
- `NAME=value`, `NAME = value` and `NAME: value` (the colon right after
  NAME) anywhere in a line when NAME looks secret (`.env` and `export` lines,
  YAML, HTTP headers, compose log lines `api-1  | STRIPE_SECRET_KEY=...`,
  `--password=...`). A quoted value is replaced inside its quotes, an
  unquoted one up to the end of the line or to a blank before the next
  NAME=value on it (`password=x state=present`).

A name looks secret when one of its words (split at `_`, `-`, `.` and camel
case) is a secret word (password, pass, secret, token, key, auth, ...) or ends
in password/passwd/secret/token/apikey (dbpassword, mytoken). So `monkey`,
`keyboard`, `tokenizer`, `max_tokens` and `author` are not secret. Names
about a secret rather than holding one are not secret either: their last word
is id, file, path, dir, name, url, type or length (KEY_ID, PASSWORD_FILE,
SSH_KEY_PATH); nor are names with the word public or publishable (public by
design: STRIPE_PUBLISHABLE_KEY, NEXT_PUBLIC_*). Under a secret name these
values stay readable: empty, true/false/yes/no/on/off/null/none, a variable
reference (`$NAME`, `${NAME}`) and a Stripe publishable key (`pk_live_...`).

The last three rules look inside the values of names that do not look secret,
so `"msg": "{\\"token\\": \\"x\\"}"` and `?next=/a?token=x` are caught too.

Every rule is linear in the length of the text: patterns start at a word
boundary (a lookbehind) and their repeated parts cannot overlap.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

REDACTED = "********"
MIN_SECRET_LENGTH = 4

# Words that make a name secret-looking (db_password, STRIPE_SECRET_KEY, apiToken).
_SECRET_WORDS = frozenset(
    {
        "password", "passwd", "pass", "pwd", "secret", "token", "key", "apikey",
        "credential", "credentials", "private", "passphrase", "auth", "cookie",
    }
)
# Endings that make a word secret-looking (dbpassword, mytoken).
_SECRET_SUFFIXES = ("password", "passwd", "secret", "token", "apikey")
# Last words of names about a secret rather than holding one: KEY_ID, PASSWORD_FILE, TOKEN_URL.
_NOT_SECRET_LAST_WORDS = frozenset({"id", "file", "path", "dir", "name", "url", "type", "length"})
# Last words of names holding a whole command line (sessions_command), which may carry a
# credential (`redis-cli -a PW`): the value is kept out like a secret's.
_COMMAND_LAST_WORDS = frozenset({"command"})
# Words of names whose values are public by design: STRIPE_PUBLISHABLE_KEY, NEXT_PUBLIC_API_KEY.
_PUBLIC_WORDS = frozenset({"public", "publishable"})
# Values that stay readable under a secret-looking name (flags and empty markers).
_HARMLESS_VALUES = frozenset({"true", "false", "yes", "no", "on", "off", "null", "none", "~"})
# HTTP authentication schemes, kept readable before the credentials they introduce.
_SCHEMES = ("bearer", "basic", "token", "digest", "negotiate", "ntlm", "bot")

# A lower-case letter or digit followed by an upper-case letter: the word break in camelCase.
_CAMEL = re.compile(r"([a-z0-9])([A-Z])")
# What splits a (lower-cased) name into words.
_WORD_BREAK = re.compile(r"[^a-z0-9]+")

# ANSI escape sequences: CSI (colours, erase line, cursor moves) as a real ESC or as the text
# a printed repr shows (\x1b[, \u001b[, \033[); OSC (titles, links) ended by BEL or ESC \;
# any other two-character escape.
_ANSI = re.compile(
    r"(?:\x1b|\\x1b|\\u001b|\\033)\[[0-?]*[ -/]*[@-~]"
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)"
    r"|\x1b[@-Z\\-_]"
)
# A PEM private key block, from its BEGIN line to its END line or, cut off, to the end of the text.
_PEM_PRIVATE_KEY = re.compile(
    r"(?P<begin>-----BEGIN [A-Z0-9 ]*PRIVATE KEY[A-Z ]*-----)"
    r"(?:.*?(?P<end>-----END [A-Z0-9 ]*PRIVATE KEY[A-Z ]*-----)|.*)",
    re.DOTALL,
)
# Stripe secret, restricted and webhook signing keys (publishable pk_ keys are public).
_STRIPE_KEY = re.compile(r"(?<![A-Za-z0-9_])(?P<prefix>(?:sk|rk)_(?:live|test)_|whsec_)[A-Za-z0-9]+")
# GitHub personal, OAuth, user, server and refresh tokens, and fine-grained personal tokens.
_GITHUB_TOKEN = re.compile(r"(?<![A-Za-z0-9_])(?P<prefix>gh[pousr]_|github_pat_)[A-Za-z0-9_]{20,}")
# Slack bot, app, user, refresh and workspace tokens.
_SLACK_TOKEN = re.compile(r"(?<![A-Za-z0-9_-])(?P<prefix>xox[baprs]-)[A-Za-z0-9-]{10,}")
# AWS access key ids, long-lived (AKIA) and temporary (ASIA).
_AWS_ACCESS_KEY_ID = re.compile(r"(?<![A-Za-z0-9])(?P<prefix>AKIA|ASIA)[0-9A-Z]{16}(?![A-Za-z0-9])")
# A JSON Web Token: base64url header (always starts with `{"`, so eyJ), payload, signature;
# replaced whole (the prefix group is empty).
_JWT = re.compile(r"(?<![A-Za-z0-9_-])(?P<prefix>)eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
_TOKEN_SHAPES = (_STRIPE_KEY, _GITHUB_TOKEN, _SLACK_TOKEN, _AWS_ACCESS_KEY_ID, _JWT)
# Webhook URLs whose path carries the secret: Slack (services, workflows, triggers), Discord
# (the token after the webhook id) and Telegram (the bot token); the host and the fixed part stay.
_WEBHOOK_PATH = re.compile(
    r"(?P<head>hooks\.slack\.com/(?:services|workflows|triggers)/)[A-Za-z0-9_/-]+"
    r"|(?P<head2>discord(?:app)?\.com/api/webhooks/[0-9]+/)[A-Za-z0-9_-]+"
    r"|(?P<head3>api\.telegram\.org/(?:file/)?bot)[0-9]+:[A-Za-z0-9_-]+"
)
# A Sentry DSN's public key (and the old secret key after it): https://<32 hex>[:<32 hex>]@host/1.
_SENTRY_DSN = re.compile(r"(?<![A-Za-z0-9+.-])(?P<head>https?://)[0-9a-fA-F]{32}(?::[0-9a-fA-F]{32})?@")
# The password in scheme://user:password@host. The user may be empty (redis://:pw@host); the
# password may hold `/`, `+` and `:` but not `://` (so the scan stops at the next URL), and a
# port followed by a path (http://host:8080/a@b) is not a password.
# An `@` in the password itself (unescaped, as people write them) belongs to it when another `@`
# follows before the host: postgresql://app:p@ss@db hides `p@ss`, not `p`.
_URL_CREDENTIALS = re.compile(
    r"(?<![A-Za-z0-9+.-])(?P<head>[A-Za-z][A-Za-z0-9+.-]*://[^\s/:@\"'<>]*:)"
    r"(?![0-9]+[/?#])(?:[^\s:@\"'<>]|:(?!//)|@(?=[^\s/\"'<>@]*@))+@"
)
# curl's -u / --user user:password (the password after the first colon).
_CURL_USER = re.compile(r"(?<![A-Za-z0-9_-])(?P<head>(?:-u|--user)(?:[ \t]+|=)?[^\s:\"']+:)(?P<value>[^\s\"']+)")
# Database and cache clients' passwords on their command line: mysql -pPASSWORD (no blank:
# `-p` alone asks for it), redis-cli -a PASSWORD.
_CLIENT_PASSWORD = re.compile(
    r"(?P<head>\b(?:mysql|mysqldump|mysqladmin|mariadb|mariadb-dump|mariadb-admin)\b[^\r\n|;&]{0,200}?[ \t]-p)"
    r"(?P<value>[^\s\"']+)"
    r"|(?P<head2>\bredis-cli\b[^\r\n|;&]{0,200}?[ \t]-a[ \t]+)(?P<value2>[^\s\"']+)"
)
# Where a long option's unquoted value ends.
_BLANK = re.compile(r"\s")
# A long command-line option and its value after a blank: --db-password X (redacted when the
# option's name looks secret; `--password=X` is an assignment and has its own rule).
_LONG_OPTION = re.compile(r"(?<![A-Za-z0-9_-])--(?!no-)(?P<name>[A-Za-z][A-Za-z0-9_.-]*)[ \t]+(?=[^\s-])")
# An Authorization header (also as a JSON or repr key, or escaped JSON), its optional scheme,
# then the credentials up to the end of the line or a quote.
_AUTHORIZATION = re.compile(
    r"(?<![A-Za-z0-9])(?P<head>(?:[A-Za-z0-9]+[-_])*authorization\\?[\"']?[ \t]*[:=][ \t]*\\?[\"']?"
    r"(?:(?:" + "|".join(_SCHEMES) + r")[ \t]+)?)"
    r"(?P<value>[^\s\"'\\][^\r\n\"'\\]*)",
    re.IGNORECASE,
)
# `Bearer <token>` or `Basic <credentials>` anywhere (a token68: letters, digits, -._~+/ and
# trailing = padding).
_BEARER = re.compile(r"(?<![A-Za-z0-9_-])(?P<head>(?:[Bb]earer|BEARER|[Bb]asic|BASIC)[ \t]+)"
                     r"(?P<token>[A-Za-z0-9._~+/-]+=*)")
# Something in a token that prose words do not have.
_TOKEN_CHARACTER = re.compile(r"[0-9_~+/-]")
# A quoted key, as in JSON or a Python repr ("password": , 'secret': , "api_key":) or JSON
# escaped in a JSON string (\"token\": ).
_QUOTED_KEY = re.compile(r"(?P<q>\\?[\"'])(?P<name>[A-Za-z_][A-Za-z0-9_.-]*)(?P=q)[ \t]*:[ \t]*")
# The value after a quoted key: a double-, single- or escaped-double-quoted string, or a bare
# scalar such as 1234.
_QUOTED_KEY_VALUE = re.compile(
    r"\"(?:[^\"\\\r\n]|\\.)*\"|'(?:[^'\\\r\n]|\\.)*'|\\\"(?:[^\"\\\r\n]|\\[^\"\r\n])*\\\"|[^\s,;}\]\"'\\]+"
)
# A URL query parameter's name: ?name= or &name=.
_QUERY_NAME = re.compile(r"[?&](?P<name>[A-Za-z_][A-Za-z0-9_.\[\]-]*)=")
# A query parameter's value: up to the next parameter, the fragment, or the end of the URL.
_QUERY_VALUE = re.compile(r"[^&#\s\"'<>]*")
# NAME then `=` (spaces allowed around it) or `:` (spaces after it) anywhere in a line, NAME
# starting a word (optionally after `-`/`--` of a command-line flag). Not after `?`/`&` (query
# parameters have their own rule) nor `/` (a URL's user or a path part).
_ASSIGNMENT = re.compile(r"(?<![A-Za-z0-9_.?&/-])(?:--?)?(?P<name>[A-Za-z_][A-Za-z0-9_.-]*)(?:[ \t]*=[ \t]*|:[ \t]*)")
# A quoted value after a secret NAME (replaced inside its quotes).
_QUOTED_VALUE = re.compile(r"\"(?:[^\"\\\r\n]|\\.)*\"|'(?:[^'\\\r\n]|\\.)*'")
# Where an unquoted value ends: at the end of its line, or at a blank before the next NAME=value
# on it (`AUTH=yes DB_PASSWORD=x`, module arguments `password=x state=present`).
_UNQUOTED_VALUE_END = re.compile(r"[\r\n]|[ \t](?=(?:--?)?[A-Za-z_][A-Za-z0-9_.-]*=)")
# A reference to a variable rather than a value: $DB_PASSWORD, ${DB_PASSWORD}.
_VARIABLE_REFERENCE = re.compile(r"\$\{?[A-Za-z_][A-Za-z0-9_]*\}?")
# A Stripe publishable key: public by design.
_PUBLISHABLE_KEY = re.compile(r"pk_(?:live|test)_[A-Za-z0-9]+")


def looks_secret(name: str) -> bool:
    """True for names like db_password, STRIPE_SECRET_KEY, apiToken; False for KEY_ID, monkey."""
    words = [word for word in _WORD_BREAK.split(_CAMEL.sub(r"\1_\2", name).lower()) if word]
    if not words or words[-1] in _NOT_SECRET_LAST_WORDS or _PUBLIC_WORDS.intersection(words):
        return False
    if len(words) > 1 and words[-1] in _COMMAND_LAST_WORDS:
        return True
    return any(word in _SECRET_WORDS or word.endswith(_SECRET_SUFFIXES) for word in words)


def mask(name: str, value: str) -> str:
    """The value to show for a variable: itself, or REDACTED when its name looks secret."""
    return REDACTED if looks_secret(name) else value


def strip_ansi(text: str) -> str:
    """Text without ANSI escape sequences, real or printed as `\\x1b[...`."""
    return _ANSI.sub("", text)


def redact_text(text: str) -> str:
    """Text with ANSI stripped and secrets replaced by REDACTED, by the rules in the module docstring."""
    text = strip_ansi(text)
    text = _PEM_PRIVATE_KEY.sub(_pem_block, text)
    for pattern in _TOKEN_SHAPES:
        text = pattern.sub(_keep_prefix, text)
    text = _SENTRY_DSN.sub(lambda m: f"{m['head']}{REDACTED}@", text)
    text = _WEBHOOK_PATH.sub(_webhook, text)
    text = _URL_CREDENTIALS.sub(lambda m: f"{m['head']}{REDACTED}@", text)
    text = _CURL_USER.sub(lambda m: f"{m['head']}{REDACTED}", text)
    text = _CLIENT_PASSWORD.sub(_client_password, text)
    text = _AUTHORIZATION.sub(_authorization, text)
    text = _BEARER.sub(_bearer, text)
    text = _redact_named_values(text, _LONG_OPTION, _option_value_end)
    text = _redact_named_values(text, _QUOTED_KEY, _quoted_key_value_end)
    text = _redact_named_values(text, _QUERY_NAME, _query_value_end)
    return _redact_named_values(text, _ASSIGNMENT, _assigned_value_end)


def _keeps(value: str) -> bool:
    """True for a value that stays readable even under a secret-looking name."""
    value = value.strip()
    return (
        not value
        or value == REDACTED
        or value.lower() in _HARMLESS_VALUES
        or _VARIABLE_REFERENCE.fullmatch(value) is not None
        or _PUBLISHABLE_KEY.fullmatch(value) is not None
    )


def _pem_block(match: re.Match[str]) -> str:
    return f"{match['begin']}{REDACTED}{match['end'] or ''}"


def _keep_prefix(match: re.Match[str]) -> str:
    return f"{match['prefix']}{REDACTED}"


def _authorization(match: re.Match[str]) -> str:
    if match["value"].strip().lower() in _SCHEMES:  # `Authorization: Bearer` with no credentials
        return match[0]
    return f"{match['head']}{REDACTED}"


def _bearer(match: re.Match[str]) -> str:
    token = match["token"].rstrip("=")
    # base64 padding (dXNlcjpwYXNz==) marks credentials; `realm="api"` is an auth-param.
    padded = match["token"] != token and len(token) >= 8 and not match.string.startswith('"', match.end())
    if len(token) < 20 and not _TOKEN_CHARACTER.search(token) and not padded or token == REDACTED:
        return match[0]
    return f"{match['head']}{REDACTED}"


def _webhook(match: re.Match[str]) -> str:
    return f"{match['head'] or match['head2'] or match['head3']}{REDACTED}"


def _client_password(match: re.Match[str]) -> str:
    return f"{match['head'] or match['head2']}{REDACTED}"


def _option_value_end(text: str, start: int) -> int:
    """A long option's value: one word (a quoted one whole)."""
    quoted = _QUOTED_VALUE.match(text, start)
    if quoted:
        return quoted.end()
    end = _BLANK.search(text, start)
    return end.start() if end else len(text)


def _redact_named_values(text: str, names: re.Pattern[str], value_end: Callable[[str, int], int]) -> str:
    """Replace the value after each match of `names` whose `name` group looks secret.

    `value_end(text, start)` says where the value starting at `start` ends. After a name that
    does not look secret the search goes on right after it, so a secret nested in its value
    (`"msg": "{\\"token\\": ...}"`, `?next=/a?token=...`, `PORT=1 DB_PASSWORD=...`) is found.
    """
    parts: list[str] = []
    position = 0
    while found := names.search(text, position):
        parts.append(text[position:found.end()])
        position = found.end()
        if looks_secret(found["name"]):
            end = value_end(text, position)
            parts.append(_masked(text[position:end]))
            position = end
    parts.append(text[position:])
    return "".join(parts)


def _quoted_key_value_end(text: str, start: int) -> int:
    value = _QUOTED_KEY_VALUE.match(text, start)
    return value.end() if value else start


def _query_value_end(text: str, start: int) -> int:
    value = _QUERY_VALUE.match(text, start)
    return value.end() if value else start


def _assigned_value_end(text: str, start: int) -> int:
    """After its closing quote, else at the end of the line or before the next NAME=value."""
    quoted = _QUOTED_VALUE.match(text, start)
    if quoted:
        return quoted.end()
    end = _UNQUOTED_VALUE_END.search(text, start)
    return end.start() if end else len(text)


def _masked(value: str) -> str:
    """REDACTED in place of a value, inside the same quotes; harmless values unchanged."""
    quote = _quote_of(value)
    inner = value[len(quote):len(value) - len(quote)]
    return value if _keeps(inner) else f"{quote}{REDACTED}{quote}"


def _quote_of(value: str) -> str:
    for quote in ('\\"', '"', "'"):
        if len(value) >= 2 * len(quote) and value.startswith(quote) and value.endswith(quote):
            return quote
    return ""


class Redactor:
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        values = {str(value) for value in secrets if len(str(value)) >= MIN_SECRET_LENGTH}
        for value in list(values):
            escaped = json.dumps(value)[1:-1]
            if escaped != value:
                values.add(escaped)
        self._secrets = sorted(values, key=len, reverse=True)
        # Files tree() found or left clean, with their (mtime, size) then: a later
        # pass skips a file only while it is exactly that version.
        self._scrubbed: dict[Path, tuple[int, int]] = {}

    def text(self, text: str) -> str:
        """Text with the known secret values replaced, then `redact_text`."""
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return redact_text(text)

    def data(self, value: Any) -> Any:
        """A copy of JSON-like data with secrets replaced."""
        if isinstance(value, dict):
            return {key: self._item(str(key), item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.data(item) for item in value]
        if isinstance(value, str):
            return self.text(value)
        return value

    def _item(self, key: str, value: Any) -> Any:
        secret_scalar = isinstance(value, str) and value or isinstance(value, (int, float)) and not isinstance(value, bool)
        if secret_scalar and looks_secret(key):
            return REDACTED  # a PIN or a numeric API secret is a secret too
        return self.data(value)

    def event(self, event: dict[str, Any]) -> None:
        """Redact one ansible-runner event in place, before it is written."""
        event_data = event.get("event_data")
        if isinstance(event_data, dict):
            event_data.pop("task_args", None)
            res = event_data.get("res")
            if isinstance(res, dict):
                res.pop("invocation", None)
                for item in res.get("results") or []:
                    if isinstance(item, dict):
                        item.pop("invocation", None)
        for key, value in list(event.items()):
            event[key] = self.data(value)

    def command_file(self, path: Path) -> None:
        """Rewrite the `command` artifact without the environment's values."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return
        if isinstance(data, dict) and isinstance(data.get("env"), dict):
            data["env"] = {name: REDACTED for name in data["env"]}
        _write_private(path, json.dumps(self.data(data), ensure_ascii=False))

    def tree(self, root: Path) -> None:
        """Scrub every file under root in place (a file this redactor already left clean, and
        unchanged since, is not read again)."""
        for path in sorted(root.rglob("*")):
            if not path.is_file() or path.is_symlink():
                continue
            if path.name == "command":
                self.command_file(path)
                continue
            if self._scrubbed.get(path) == _version(path):
                continue
            try:
                original = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            cleaned = self._file_text(path, original)
            if cleaned != original:
                _write_private(path, cleaned)
            self._scrubbed[path] = _version(path)

    def _file_text(self, path: Path, text: str) -> str:
        if path.suffix == ".json":
            try:
                parsed = json.loads(text)
            except ValueError:
                return self.text(text)
            cleaned = self.data(parsed)
            return text if cleaned == parsed else json.dumps(cleaned, ensure_ascii=False)
        return self.text(text)


def _version(path: Path) -> tuple[int, int]:
    try:
        stat = path.stat()
    except OSError:
        return (-1, -1)
    return (stat.st_mtime_ns, stat.st_size)


def _write_private(path: Path, text: str) -> None:
    temporary = path.with_name(path.name + ".redacting")
    temporary.write_text(text, encoding="utf-8")
    temporary.chmod(0o600)
    temporary.replace(path)
