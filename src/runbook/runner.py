# SPDX-License-Identifier: GPL-3.0-or-later
"""Run one scenario's playbook through ansible-runner.

Artifacts go straight into the run folder (artifact_dir=<runs>, ident=<run id>).
The private data dir, where ansible-runner writes env/extravars (our -e
values, possibly secret), is a private temporary directory removed after the
run, so extra vars never reach the run folder or the process list.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ansible_runner

from runbook import ansible_config, paths
from runbook.catalog import Scenario
from runbook.errors import ExitCode
from runbook.events import is_stats, published_of, stats_of, task_result
from runbook.interrupt import Interrupt
from runbook.pywarnings import without_warnings
from runbook.redact import Redactor
from runbook.vault import VaultOptions

_NO_HOSTS_MARKERS = ("no hosts to target", "does not match any hosts", "no hosts matched")
# The extra var carrying the run's lock token: set by the CLI only, never with -e.
LOCK_TOKEN_VAR = "runbook_lock_token"
# ansible-runner checks its cancel callback after each output or this many seconds.
RUNNER_SETTINGS = {"pexpect_timeout": 0.5}


@dataclass(frozen=True)
class Connection:
    """How ansible-playbook logs in and becomes root: the run and the release of its lock share it."""

    user: str | None = None  # -u: the login (with the docker connection, docker exec's user)
    become: bool = False  # -b
    become_user: str | None = None
    private_key: str | None = None  # an absolute path, checked readable
    ssh_common_args: str | None = None  # --ssh-common-args, as ansible-playbook takes it
    vault: VaultOptions = field(default_factory=VaultOptions)  # vault ids, password files, asked passwords

    def args(self) -> list[str]:
        """ansible-playbook's options for it (`runbook run` and `unlock-stale` take the same)."""
        words: list[str] = []
        if self.user:
            words += ["--user", self.user]
        if self.become:
            words.append("--become")
        if self.become_user:
            words += ["--become-user", self.become_user]
        if self.private_key:
            words += ["--private-key", self.private_key]
        if self.ssh_common_args:
            words += ["--ssh-common-args", self.ssh_common_args]
        return words + self.vault.playbook_args()

    def passwords(self) -> dict[str, str]:
        """ansible-runner's answers to ansible-playbook's prompts (the vault passwords asked for)."""
        return self.vault.prompts()


@dataclass
class RunRequest:
    scenario: Scenario
    project: Path
    inventory: list[str] = field(default_factory=list)  # each -i, checked; empty: ansible.cfg's default
    limit: str | None = None
    extra_vars: dict[str, Any] = field(default_factory=dict)
    check: bool = False
    lock_token: str = ""  # passed as runbook_lock_token, after validation
    connection: Connection = field(default_factory=Connection)
    diff: bool = False
    tags: str | None = None  # a checked comma list
    skip_tags: str | None = None
    forks: int | None = None
    verbosity: int = 0  # ansible-playbook's -v count
    # Vault-encrypted -e files: ansible-playbook reads them itself (their values are not in extra_vars).
    vaulted_files: list[str] = field(default_factory=list)

    def playbook_args(self) -> list[str]:
        """The ansible-playbook options of this run (inventory, limit and extra vars go separately)."""
        words = self.connection.args()
        for path in self.vaulted_files:  # before the extra vars ansible-runner adds: a later plain -e wins
            words += ["-e", f"@{path}"]
        if self.check:
            words.append("--check")
        if self.diff:
            words.append("--diff")
        if self.tags:
            words += ["--tags", self.tags]
        if self.skip_tags:
            words += ["--skip-tags", self.skip_tags]
        if self.forks:
            words += ["--forks", str(self.forks)]
        if self.verbosity:
            words.append("-" + "v" * min(self.verbosity, 4))
        return words


def cmdline(words: list[str]) -> str | None:
    """ansible-runner's `cmdline` (it splits it with shlex): each word quoted, None when empty."""
    return shlex.join(words) if words else None


@dataclass
class RunOutcome:
    status: str  # ansible-runner's: successful, failed, canceled, timeout
    rc: int | None
    interrupted: bool = False
    stats: dict[str, dict[str, int]] = field(default_factory=dict)
    published: dict[str, Any] = field(default_factory=dict)
    host_results: int = 0
    no_hosts: bool = False  # nothing ran: inventory and limit gave no host to act on
    started: bool = True  # ansible-playbook was started
    left_running: list[int] = field(default_factory=list)  # its processes that could not be ended

    @property
    def hosts(self) -> list[str]:
        hosts: set[str] = set()
        for per_host in self.stats.values():
            hosts.update(per_host)
        return sorted(hosts)

    def exit_code(self) -> ExitCode:
        if self.interrupted:
            return ExitCode.INTERRUPTED
        if any(self.stats.get("dark", {}).values()):
            return ExitCode.UNREACHABLE
        if any(self.stats.get("failures", {}).values()) or self.status != "successful" or self.rc:
            return ExitCode.FAILED
        return ExitCode.OK

    def result(self) -> str:
        return {
            ExitCode.OK: "ok",
            ExitCode.FAILED: "failed",
            ExitCode.UNREACHABLE: "unreachable",
            ExitCode.INTERRUPTED: "interrupted",
        }.get(self.exit_code(), "error")


def envvars(project: Path, config_dir: Path | None = None) -> dict[str, str]:
    """Environment for ansible-playbook: the Ansible config, the project's roles, no args in events.

    With `config_dir`, the user's own ansible.cfg (found as Ansible finds it) is honoured: the
    merged file (see ansible_config) is written there and ANSIBLE_CONFIG names it. Without, or
    when the user has none, the project's ansible.cfg applies alone.
    """
    bin_dir = str(Path(sys.executable).parent)
    path = os.environ.get("PATH", "")
    if bin_dir not in path.split(os.pathsep):
        path = os.pathsep.join(part for part in (bin_dir, path) if part)
    config = ansible_config.current(project) if config_dir is not None else ansible_config.EffectiveConfig(
        project / "ansible.cfg")
    config_file = config.write(config_dir) if config_dir is not None else config.project_file
    defaults = ansible_config.DEFAULTS
    env = {
        "PATH": path,
        "ANSIBLE_CONFIG": str(config_file),
        "ANSIBLE_ROLES_PATH": ansible_config.merge_list(str(project / "roles"), _users(config, "roles_path"), ":"),
        # runbook_guard (refuses templates in -e) also for playbooks not next to it
        # (playbooks/internal/); ansible-runner appends its own callback dir.
        "ANSIBLE_CALLBACK_PLUGINS": ansible_config.merge_list(
            str(project / "playbooks" / "callback_plugins"), _users(config, "callback_plugins"), ":"),
        "ANSIBLE_DISPLAY_ARGS_TO_STDOUT": "False",
        "ANSIBLE_NOCOLOR": "True",
        "ANSIBLE_RETRY_FILES_ENABLED": "False",
    }
    enabled = config.value(defaults, "callbacks_enabled") if config.layered else None
    if enabled:  # the user's environment variable would otherwise drop the project's callbacks
        env["ANSIBLE_CALLBACKS_ENABLED"] = enabled
    collections = collections_path(project, _users(config, "collections_path"))
    if collections:
        env["ANSIBLE_COLLECTIONS_PATH"] = collections
    return env


def _users(config: ansible_config.EffectiveConfig, key: str) -> str | None:
    """A merged setting's value when the user has a config (the project's folders already first)."""
    return config.value(ansible_config.DEFAULTS, key) if config.layered else None


def collections_path(project: Path, configured: str | None = None,
                     installed: Path | None = None) -> str | None:
    """The project's collections (runbook.ops; in an installed wheel also the ones it ships,
    runbook/_content/collections) first, then the ones the installed package ships when the
    project is another folder (RUNBOOK_PROJECT_DIR at a clone: its playbooks need
    community.docker and ansible.posix, which a clone does not hold), then the configured ones
    (the user's, merged), else the usual ones; None without the project's folder."""
    shipped = project / "collections"
    if not (shipped / "ansible_collections").is_dir():
        return None
    if installed is None:
        installed = paths.shipped_content() / "collections"
    usual = configured or os.environ.get("ANSIBLE_COLLECTIONS_PATH") or \
        "~/.ansible/collections:/usr/share/ansible/collections"
    if (installed / "ansible_collections").is_dir() and installed.resolve() != shipped.resolve():
        usual = ansible_config.merge_list(str(installed), usual, os.pathsep)
    return ansible_config.merge_list(str(shipped), usual, os.pathsep)


def execute(
    request: RunRequest,
    runs: Path,
    run_id: str,
    redactor: Redactor,
    on_event: Callable[[dict[str, Any]], None],
    interrupt: Interrupt,
) -> RunOutcome:
    """Run the playbook; events are redacted before they are written or shown.

    `interrupt` must be installed by the caller (its handlers cover the whole run).
    """
    run_dir = runs / run_id
    if interrupt.requested:  # stopped before the playbook started: nothing ran
        return RunOutcome(status="canceled", rc=None, interrupted=True, started=False)
    seen: dict[str, Any] = {"stats": None, "host_results": 0}

    def event_handler(event: dict[str, Any]) -> bool:
        if isinstance(event.get("pid"), int):
            interrupt.playbook_started(event["pid"])
        redactor.event(event)
        if is_stats(event):
            seen["stats"] = event
        if task_result(event) is not None:
            seen["host_results"] += 1
        show_safely(on_event, event)
        return True  # False would keep ansible-runner from writing the event

    def status_handler(status: dict[str, Any], runner_config: Any = None) -> None:
        # The `command` artifact (whole environment) is written just before 'running'.
        if status.get("status") == "running":
            redactor.command_file(run_dir / "command")

    extravars = dict(request.extra_vars)
    if request.lock_token:
        extravars[LOCK_TOKEN_VAR] = request.lock_token
    private = Path(tempfile.mkdtemp(prefix="runbook-"))
    left: list[int] = []
    try:
        runner = ansible_runner.run(
            private_data_dir=str(private),
            artifact_dir=str(runs),
            ident=run_id,
            project_dir=str(request.project),
            playbook=str(request.scenario.path),
            inventory=list(request.inventory) or None,
            limit=request.limit,
            extravars=extravars,
            cmdline=cmdline(request.playbook_args()),
            passwords=request.connection.passwords(),
            envvars=envvars(request.project, private),
            settings=RUNNER_SETTINGS,
            event_handler=event_handler,
            status_handler=status_handler,
            cancel_callback=interrupt.should_cancel,
            quiet=True,
            rotate_artifacts=0,
        )
        status, rc = runner.status, runner.rc
    finally:
        left = interrupt.playbook_ended()
        shutil.rmtree(private, ignore_errors=True)
        _clean_run_dir(run_dir, redactor)

    outcome = RunOutcome(status=status, rc=rc, interrupted=interrupt.requested or status == "canceled")
    outcome.host_results = seen["host_results"]
    outcome.left_running = left
    outcome.no_hosts = not outcome.interrupted and not outcome.host_results and says_no_hosts(run_dir)
    if seen["stats"] is not None:
        outcome.stats = stats_of(seen["stats"])
        outcome.published = published_of(seen["stats"])
    return outcome


def show_safely(on_event: Callable[[dict[str, Any]], None], event: dict[str, Any]) -> None:
    """Show an event; a terminal that went away (SIGHUP, a closed pipe) must not stop the run."""
    try:
        on_event(event)
    except OSError:
        pass


def output_tail(run_dir: Path, lines: int = 15) -> list[str]:
    """The last lines ansible-playbook printed (already scrubbed), to explain a run that did nothing.

    Python warnings are left out: they are in run.json, and they never explain a run.
    """
    try:
        text = (run_dir / "stdout").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    return [line.rstrip() for line in without_warnings(text.splitlines()) if line.strip()][-lines:]


def says_no_hosts(run_dir: Path) -> bool:
    """ansible-playbook's output says the inventory and limit matched no host."""
    for name in ("stdout", "stderr"):
        try:
            text = (run_dir / name).read_text(encoding="utf-8", errors="replace").lower()
        except OSError:
            continue
        if any(marker in text for marker in _NO_HOSTS_MARKERS):
            return True
    return False


# What Ansible says when a vaulted value has no (or no matching) vault password.
_VAULT_MARKERS = ("Attempting to decrypt but no vault secrets found", "Decryption failed")
_FATAL = re.compile(r"fatal: \[(?P<host>[^\]]+)\]: FAILED! => (?P<said>.*)")


def vault_failure(outcome: RunOutcome, run_dir: Path) -> str:
    """Ansible's words when the run failed only because a vaulted value could not be decrypted,
    before anything changed on a host (no changes, nobody unreachable); else ""."""
    if outcome.interrupted or not any(outcome.stats.get("failures", {}).values()):
        return ""
    if any(outcome.stats.get("changed", {}).values()) or any(outcome.stats.get("dark", {}).values()):
        return ""
    try:
        text = (run_dir / "stdout").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    fatal = [match for match in map(_FATAL.search, text.splitlines()) if match]
    if not fatal or not all(any(marker in match["said"] for marker in _VAULT_MARKERS) for match in fatal):
        return ""
    said = fatal[0]["said"]
    marker = next(marker for marker in _VAULT_MARKERS if marker in said)
    reason = said[said.index(marker):].split('"')[0].rstrip(".")
    return f"{fatal[0]['host']}: {reason}"


# What ansible-playbook warns when an inventory gives no host.
_PARSE_FAILURE = re.compile(r"Failed to parse inventory with '[^']+' plugin: .*|Failed to parse .* with .* plugin.*")
_NO_MATCH = re.compile(r"Could not match supplied host pattern, ignoring: .*")
_UNPARSED = re.compile(r"Unable to parse (?P<path>.*) as an inventory source")
_ORIGIN = re.compile(r"Origin: (?P<where>/\S+)")


def no_hosts_reason(run_dir: Path) -> str:
    """Ansible's own words for why nothing matched: the source it could not parse and why
    (with the line it stopped at), a source that does not exist, else that the pattern matched
    nothing; or ""."""
    try:
        text = (run_dir / "stdout").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    lines = [line.strip().removeprefix("[WARNING]:").strip() for line in text.splitlines()]
    unparsed = [match["path"] for match in map(_UNPARSED.fullmatch, lines) if match]
    missing = [path for path in unparsed if not Path(path).exists()]
    unparsed = [path for path in unparsed if path not in missing]
    said = [f"{path} does not exist" for path in missing]
    failure = next((line[:300] for line in lines if _PARSE_FAILURE.fullmatch(line)), "")
    if unparsed:
        origin = next((match["where"] for match in map(_ORIGIN.match, lines) if match), "")
        where = f" (at {origin})" if origin.split(":")[0] in unparsed else ""
        said.append(f"unable to parse {', '.join(unparsed)}" + (f": {failure}{where}" if failure else ""))
    if not said:
        said = [line[:300] for line in lines if _NO_MATCH.fullmatch(line)][:1]
    return "; ".join(said)


def inventory_tried(request: RunRequest) -> str:
    """The inventory sources this run gave ansible-playbook, as an operator names them."""
    if request.inventory:
        return ", ".join(request.inventory)
    given = os.environ.get("ANSIBLE_INVENTORY")
    if given:
        return f"{given} (ANSIBLE_INVENTORY)"
    configured = ansible_config.current(request.project).value(ansible_config.DEFAULTS, "inventory")
    if configured:
        return f"{configured} (ansible.cfg's inventory; give yours with -i)"
    return "none (give one with -i)"


def _clean_run_dir(run_dir: Path, redactor: Redactor) -> None:
    """Drop what we never keep (fact cache, leftover partial events), scrub the rest."""
    shutil.rmtree(run_dir / "fact_cache", ignore_errors=True)
    for partial in (run_dir / "job_events").glob("*-partial.json"):
        partial.unlink(missing_ok=True)
    if run_dir.is_dir():
        redactor.tree(run_dir)
