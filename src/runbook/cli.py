# SPDX-License-Identifier: GPL-3.0-or-later
"""The `runbook` command: list, run, triage, drill, config, history, report, unlock-stale, completion."""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shlex
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, NoReturn, TextIO

from rich.console import Console
from rich.table import Table

from runbook import (__version__, ansible_config, completion, drill_cli, inventory_vars, listing, paths, record, report,
                     triage, triage_fix)
from runbook.triage_rules import load_rules
from runbook import incident as incident_report
from runbook.announce import Announcer
from runbook.catalog import Scenario, by_severity, load_catalog, load_scenario
from runbook.errors import BadInput, ExitCode, Refused
from runbook.interrupt import Interrupt
from runbook.playbook_listing import list_playbook
from runbook.preview import PROBED, release_preview
from runbook.progress import Progress
from runbook.scenario_help import scenario_help
from runbook.pywarnings import Collector, interpreter_warnings
from runbook.redact import REDACTED, Redactor, looks_secret, mask
from runbook.lock_release import (LOG_FILE, RELEASE_PLAYBOOK, STALE_NOTE, TIMEOUT, ReleaseError, ReleaseOutcome,
                             ReleaseRequest, append_log, release_lock, run_internal)
from runbook.runner import (LOCK_TOKEN_VAR, Connection, RunOutcome, RunRequest, execute, inventory_tried,
                            no_hosts_reason, output_tail, vault_failure)
from runbook.streams import hangup_safe, silence
from runbook.versions import ansible_core_version, version_line
from runbook.validate import (CONNECTION_VARS, ExtraVars, check_contract_vars, check_extra_vars, check_forks,
                              check_inventory, check_limit, check_private_key, check_ssh_common_args, check_tags,
                              check_token, check_user, read_extra_vars, read_extra_vars_split, secret_values,
                              triage_setting_problem)
from runbook.vault import Decryptor, VaultOptions, ask_passwords, check_options, configured_slugs, leaf_texts

STALE_ONLY_VAR = "runbook_lock_stale_only"
# This process's Python warnings: never on the operator's screen, kept in run.json.
WARNINGS = Collector()


class _UsageError(Exception):
    """A command line argparse cannot read (main prints it as one line, exit 2)."""


class _Parser(argparse.ArgumentParser):
    """argparse, but bad usage is one line: `runbook: error: ...`, exit 2 (see main)."""

    def error(self, message: str) -> NoReturn:
        raise _UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="runbook", description="Incident-response runbook scenarios, run through ansible-runner.")
    parser.add_argument("--version", action="version", version=version_line(),
                        help="print the tool's version and the ansible-core it runs, then exit")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    list_cmd = commands.add_parser("list", help="scenarios with severity, runbook section, destructive or not")
    list_cmd.add_argument("--json", action="store_true", help="print the catalog as JSON")

    run_cmd = commands.add_parser("run", help="run a scenario's playbook and write the incident report",
                                  add_help=False)
    run_cmd.add_argument("-h", "--help", action="store_true",
                         help="show this help; with a SCENARIO, also its variables, an example and the exit codes")
    run_cmd.add_argument("scenario", metavar="SCENARIO", nargs="?",
                         help="the scenario to run; without it, the list of scenarios (exit 2)")
    _add_host_options(run_cmd, "extra variable accepted by the scenario (repeatable)")
    run_cmd.add_argument("-C", "--check", action="store_true",
                         help="dry run: ansible --check, nothing changes (needs no --yes)")
    run_cmd.add_argument("--yes", action="store_true", help="confirm a destructive scenario without asking")
    run_cmd.add_argument("--diff", action="store_true", help="show what changes in files and templates")
    run_cmd.add_argument("--tags", metavar="TAGS", action="append", default=[],
                         help="run only these steps (comma list of the scenario's tags, see `runbook list --json`)")
    run_cmd.add_argument("--skip-tags", metavar="TAGS", action="append", default=[],
                         help="skip these steps (comma list of the scenario's tags)")
    run_cmd.add_argument("-f", "--forks", metavar="N", type=int, help="hosts worked on at a time (1-100)")
    run_cmd.add_argument("--json", action="store_true", help="print a JSON summary at the end (progress on stderr)")
    run_cmd.add_argument("--incident", metavar="ID",
                         help="the incident or ticket id, kept in the record and the report (letters, digits, -_.#)")
    run_cmd.add_argument("--list-hosts", action="store_true",
                         help="print the hosts the scenario would act on (ansible-playbook's listing); runs nothing")
    run_cmd.add_argument("--list-tasks", action="store_true",
                         help="print the tasks the scenario would run (ansible-playbook's listing); runs nothing")

    triage_cmd = commands.add_parser(
        "triage", help="diagnose the hosts (read-only), then name the scenario to run on each, most urgent first; "
                       "--fix runs it",
        description="Runs the diagnose scenario once (kept as a run, like `runbook run diagnose`), then checks "
                    "each host's diagnosis against the rules in playbooks/triage/rules.yml and prints, per host, "
                    "the verdicts ranked by severity and cause: the scenario, its severity, the evidence, and the "
                    "exact `runbook run` command; \"nothing to do\" for a healthy host. Without --fix it changes "
                    "nothing on the hosts. "
                    "With --fix, it runs each host's top verdict (one scenario per host, under the host's run "
                    "lock, as `runbook run` does: a destructive one needs --yes or the typed confirmation; "
                    "security is only reported), never on a diagnosis older than 60 s (it diagnoses again first, "
                    "and refuses if that one is too slow too), then diagnoses again and says per host whether the "
                    "symptom cleared, or proposes the next verdict. A circuit breaker refuses a fix when the host "
                    "recorded runbook_triage_max_fixes (default 3) fixes of that scenario within "
                    "runbook_triage_window (default 1h; a number and s, m, h or d), and names whom to escalate "
                    "to. The diagnosis's run.json and report keep the verdicts, the fix run, the re-diagnosis, "
                    "time to detect and time to recover. "
                    "Exit 0 when the diagnosis ran (with --fix: every fix cleared its symptom); 1 a fix failed or "
                    "did not clear; 2 bad input; 3 a host unreachable; 4 refused (a destructive fix nobody "
                    "confirmed, the circuit breaker tripped: escalate, a diagnosis too slow to act on, a security "
                    "verdict, which only a person acts on).")
    _add_host_options(triage_cmd, "a contract variable for the diagnosis and the fix, e.g. app_health_url=URL or "
                                  "runbook_triage_max_fixes=N (repeatable; repeated in the proposed commands)")
    triage_cmd.add_argument("--fix", action="store_true",
                            help="run each host's top verdict, then diagnose again and say whether it cleared")
    triage_cmd.add_argument("--yes", action="store_true",
                            help="with --fix: confirm a destructive scenario without asking")
    triage_cmd.add_argument("--json", action="store_true",
                            help="print one JSON object: the run, and per host its verdicts (with --fix also fix, "
                                 "cleared, time_to_detect_s, time_to_recover_s); progress on stderr")
    triage_cmd.add_argument("--incident", metavar="ID",
                            help="the incident or ticket id, kept in the diagnosis's (and the fix's) record and report")

    drill_cli.add_parser(commands)

    config_cmd = commands.add_parser(
        "config", help="the Ansible settings a run uses, and where each comes from",
        description="The ansible.cfg a run uses: yours (ANSIBLE_CONFIG, ./ansible.cfg, ~/.ansible.cfg, "
                    "/etc/ansible/ansible.cfg: the first that exists), with the project's settings added "
                    "where yours has none; roles_path, collections_path, callback_plugins and "
                    "callbacks_enabled are merged (the project's first).")
    config_cmd.add_argument("--json", action="store_true", help="print the settings as JSON")

    history_cmd = commands.add_parser("history", help="kept runs")
    history_cmd.add_argument("--json", action="store_true", help="print the runs as JSON")
    history_cmd.add_argument("--incident", metavar="ID", help="only the runs of this --incident")
    history_cmd.add_argument("--scenario", metavar="NAME", help="only the runs of this scenario")
    history_cmd.add_argument("--result", metavar="RESULT",
                             choices=("ok", "failed", "unreachable", "interrupted", "error", "running"),
                             help="only the runs with this result")

    report_cmd = commands.add_parser(
        "report", help="(re)write and print the incident report of a run, or of a whole incident")
    report_cmd.add_argument("run_id", metavar="RUN_ID", nargs="?")
    report_cmd.add_argument("--incident", metavar="ID",
                            help="one postmortem from every run kept under --incident ID (<runs>/incidents/ID.md)")

    unlock_cmd = commands.add_parser(
        "unlock-stale", help="give back a run lock left by a controller that died",
        description="Release the run lock on the hosts when the controller that held it died "
                    "(an interrupted run gives its lock back itself). With --token, exactly that run's "
                    "lock is released (lock_token in its run.json); without, only a lock whose "
                    "heartbeat is stale. Runs playbooks/internal/release_lock.yml.")
    _add_host_options(unlock_cmd, "a contract variable, e.g. runbook_state_dir=/var/lib/runbook (repeatable)")
    unlock_cmd.add_argument("--token", metavar="TOKEN",
                            help="release the lock of the run with this lock token, stale or not")

    completion_cmd = commands.add_parser(
        "completion", help="print a shell completion script (eval \"$(runbook completion bash)\")")
    completion_cmd.add_argument("shell", choices=["bash"], help="the shell (bash)")
    return parser


def _commands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """The subcommands' parsers, by name."""
    for action in parser._actions:  # noqa: SLF001 (argparse keeps them there only)
        if isinstance(action, argparse._SubParsersAction):  # noqa: SLF001
            return dict(action.choices)
    return {}


def _add_host_options(command: argparse.ArgumentParser, extra_vars_help: str) -> None:
    """-i, -l, -e and how to log in, as `run` and `unlock-stale` both take them (as ansible-playbook does)."""
    command.add_argument("-i", "--inventory", metavar="INVENTORY", action="append", default=[],
                         help="inventory file, directory or comma host list (repeatable, as ansible-playbook)")
    command.add_argument("-l", "--limit", metavar="LIMIT", help="limit to these hosts (ansible pattern)")
    command.add_argument("-e", "--extra-vars", metavar="KEY=VALUE|@FILE", action="append", default=[],
                         help=extra_vars_help + "; @FILE: a YAML or JSON mapping of them")
    command.add_argument("-u", "--user", metavar="USER", help="log in as this user (default: the inventory's)")
    command.add_argument("-b", "--become", action="store_true", help="become root (sudo) on the hosts; never asks")
    command.add_argument("--become-user", metavar="USER", help="become this user instead of root")
    command.add_argument("--private-key", metavar="FILE", help="SSH private key file to log in with")
    command.add_argument("--ssh-common-args", metavar="ARGS",
                         help="extra arguments for ssh, sftp and scp (e.g. '-o ProxyJump=bastion')")
    command.add_argument("--vault-id", metavar="[LABEL@]FILE|LABEL@prompt", action="append", default=[],
                         help="a vault password: a file, a script, or prompt (repeatable)")
    command.add_argument("--vault-password-file", metavar="FILE", action="append", default=[],
                         help="a file holding the vault password, or a script printing it (repeatable)")
    command.add_argument("--ask-vault-pass", action="store_true",
                         help="ask for the vault password once, before the run (needs a terminal)")
    command.add_argument("-v", "--verbose", action="count", default=0,
                         help="show every task and result (default: changes, failures, health and diagnosis)")


def _connection(args: argparse.Namespace, vault: VaultOptions) -> Connection:
    return Connection(user=check_user(args.user, "-u/--user"), become=args.become,
                      become_user=check_user(args.become_user, "--become-user"),
                      private_key=check_private_key(args.private_key),
                      ssh_common_args=check_ssh_common_args(args.ssh_common_args), vault=vault)


def _vault(args: argparse.Namespace, config: ansible_config.EffectiveConfig) -> VaultOptions:
    """The vault options given (checked), the ansible.cfg's vault secrets, the passwords asked for."""
    configured = configured_slugs(os.environ.get("ANSIBLE_VAULT_IDENTITY_LIST") or
                                  config.value(ansible_config.DEFAULTS, "vault_identity_list"),
                                  os.environ.get("ANSIBLE_VAULT_PASSWORD_FILE") or
                                  config.value(ansible_config.DEFAULTS, "vault_password_file"))
    options = check_options(VaultOptions(args.vault_id, args.vault_password_file, args.ask_vault_pass, configured))
    ask_passwords(options)
    return options


def main(argv: Sequence[str] | None = None) -> int:
    WARNINGS.install()
    try:
        return _main(list(sys.argv[1:] if argv is None else argv))
    except BrokenPipeError:  # `runbook list | head`: the reader has what it wanted
        silence(sys.stdout)
        return ExitCode.OK
    finally:
        WARNINGS.uninstall()


def _main(argv: list[str]) -> int:
    wants_json = "--json" in argv
    if argv[:1] == [completion.HIDDEN_COMMAND]:  # the completion script asks; never fails
        return _complete(argv[1:])
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except _UsageError as exc:
        return _refuse(ExitCode.BAD_INPUT, "error", str(exc), wants_json)
    try:
        if args.command == "run" and args.help:
            return cmd_run_help(_commands(parser)["run"], args.scenario)
        if args.command == "completion":
            print(completion.bash_script(_commands(parser)), end="")
            return ExitCode.OK
        if args.command == "list":
            return cmd_list(args.json)
        if args.command == "run":
            return cmd_run(args) if args.scenario is not None else cmd_run_without_scenario()
        if args.command == "triage":
            return cmd_triage(args)
        if args.command == "drill":
            return drill_cli.cmd_drill(args)
        if args.command == "history":
            return cmd_history(args.json, args.incident, args.scenario, args.result)
        if args.command == "config":
            return cmd_config(args.json)
        if args.command == "unlock-stale":
            return cmd_unlock_stale(args)
        if args.incident is not None:
            if args.run_id is not None:
                raise BadInput("give a RUN_ID or --incident ID, not both")
            return cmd_report_incident(args.incident)
        if args.run_id is None:
            raise BadInput("give the RUN_ID of a kept run (runbook history) or --incident ID")
        return cmd_report(args.run_id)
    except BadInput as exc:
        return _refuse(ExitCode.BAD_INPUT, "error", str(exc), wants_json)
    except Refused as exc:
        return _refuse(ExitCode.REFUSED, "refused", str(exc), wants_json)
    except KeyboardInterrupt:
        print("runbook: interrupted", file=sys.stderr)
        return ExitCode.INTERRUPTED


def _refuse(code: ExitCode, kind: str, message: str, as_json: bool) -> int:
    """One line on stderr; with --json also a JSON object on stdout, so a pipeline always gets one."""
    print(f"runbook: {kind}: {message}", file=sys.stderr)
    if as_json:
        result = "bad_input" if code == ExitCode.BAD_INPUT else "refused"
        print(json.dumps({"result": result, "exit_code": int(code), "error": message}), flush=True)
    return int(code)


# list ------------------------------------------------------------------


def cmd_list(as_json: bool) -> int:
    catalog = load_catalog(paths.project_dir())
    scenarios = by_severity(catalog.scenarios.values())
    if as_json:
        data = {
            "scenarios": [scenario.to_dict() for scenario in scenarios],
            "uncatalogued": [{"name": item.name, "reason": item.reason} for item in catalog.uncatalogued],
        }
        print(json.dumps(data, indent=2))
        return ExitCode.OK
    console = Console(file=sys.stdout, highlight=False, soft_wrap=True)
    width = console.width if console.is_terminal else listing.WIDTH
    for line in listing.listing(catalog, width):
        print(line)
    return ExitCode.OK


def cmd_run_without_scenario() -> int:
    """`runbook run` alone: the scenarios to choose from, then a one-line hint; exit 2 (nothing run)."""
    cmd_list(as_json=False)
    print("runbook: error: name a scenario: runbook run SCENARIO [-i INVENTORY] (scenarios above)", file=sys.stderr)
    return ExitCode.BAD_INPUT


def _complete(words: list[str]) -> int:
    try:
        project = paths.project_dir()
    except BadInput:
        return ExitCode.OK
    for word in completion.candidates(project, words):
        print(word)
    return ExitCode.OK


def cmd_run_help(run_parser: argparse.ArgumentParser, name: str | None) -> int:
    """`runbook run --help`; with a scenario, its variables, an example and the exit codes first."""
    if name is None:
        print(run_parser.format_help(), end="")
        return ExitCode.OK
    scenario = load_scenario(paths.project_dir(), name)
    print(scenario_help(scenario, run_parser.format_help()), end="")
    return ExitCode.OK


# run -------------------------------------------------------------------


def _scenario_request(args: argparse.Namespace, project: Path, scenario: Scenario,
                      **run_options: Any) -> tuple[RunRequest, ExtraVars, VaultOptions]:
    """The checked run of `scenario` from the host options (-i, -l, -e, login, vault) of `run` or `triage`;
    `run_options` are RunRequest's other fields (check, diff, tags, skip_tags, forks)."""
    config = ansible_config.current(project)  # a broken ansible.cfg of the user's: bad input, before anything
    vault = _vault(args, config)
    extra = read_extra_vars_split(args.extra_vars, Decryptor(vault))
    checked = check_extra_vars(scenario, extra.values)
    request = RunRequest(
        scenario=scenario,
        project=project,
        inventory=check_inventory(args.inventory),
        limit=check_limit(args.limit),
        # a vaulted file's values stay out: ansible-playbook reads the file itself (vaulted_files)
        extra_vars={name: value for name, value in checked.items() if name not in extra.vaulted},
        vaulted_files=extra.vaulted_files,
        lock_token=secrets.token_hex(8),  # added after validation: never settable with -e
        connection=_connection(args, vault),
        verbosity=args.verbose,  # also Ansible's own -v: more detail in the kept stdout
        **run_options,
    )
    record.check_incident(args.incident)
    return request, extra, vault


def _redactor(extra: ExtraVars, vault: VaultOptions) -> Redactor:
    """Masks the -e values that look secret, the vaulted values and the vault passwords asked for."""
    return Redactor([*secret_values(extra.values), *leaf_texts(extra.vaulted), *vault.asked.values()])


def cmd_run(args: argparse.Namespace) -> int:
    project = paths.project_dir()
    scenario = load_scenario(project, args.scenario)
    request, extra, vault = _scenario_request(
        args, project, scenario, check=args.check, diff=args.diff,
        tags=check_tags(scenario, args.tags, "--tags"), skip_tags=check_tags(scenario, args.skip_tags, "--skip-tags"),
        forks=check_forks(args.forks))
    given = extra.values
    if args.list_hosts or args.list_tasks:  # ansible-playbook's listing: nothing runs, no record
        what = [flag for flag, wanted in (("--list-hosts", args.list_hosts), ("--list-tasks", args.list_tasks))
                if wanted]
        secrets_given = [*secret_values(given), *leaf_texts(extra.vaulted)]
        print(list_playbook(request, what, Redactor(secrets_given)), end="")
        return ExitCode.OK
    runs = paths.writable_runs_dir()
    redactor = _redactor(extra, vault)
    confirm(scenario, args.yes, args.check,
            preview=(lambda: release_preview(request, redactor)) if scenario.name in PROBED else None)

    progress = Progress(hangup_safe(sys.stderr if args.json else sys.stdout), redactor, verbose=args.verbose > 0)
    interrupt = Interrupt(notify=lambda text: progress.line(f"runbook: {text}"))
    with interrupt.installed():
        ran = _run(args, request, runs, redactor, progress, interrupt)
    if args.json and ran.report is not None:
        _print_summary(ran.rec, ran.report, ran.run_dir)
    return ran.code


@dataclass(frozen=True)
class _Ran:
    """A finished run: its exit code, record and folder, and its report (None: the run could not start)."""

    code: int
    rec: record.RunRecord
    run_dir: Path
    report: Path | None


def _run(args: argparse.Namespace, request: RunRequest, runs: Path,
         redactor: Redactor, progress: Progress, interrupt: Interrupt) -> _Ran:
    """Run the playbook under a fresh run record; finish the record and the report.
    BadInput when no host matched or a vaulted value could not be decrypted."""
    scenario = request.scenario
    rec, run_dir = _start_record(args, request, runs, redactor)
    announcer = Announcer(request.project, request.inventory, scenario.hosts, redactor)
    announcer.start(rec, request.limit)
    progress.start(f"runbook run {scenario.name}: {scenario.title} (section {scenario.section}, "
                   f"{scenario.severity}), run {rec.run_id}")
    try:
        outcome = execute(request, runs, rec.run_id, redactor, progress.handle, interrupt)
    except Exception as exc:  # ansible-runner could not start the run at all
        progress.close()
        rec.finish("error", ExitCode.FAILED)
        _save(run_dir, rec, redactor)
        print(f"runbook: error: the run could not start: {redactor.text(str(exc))}", file=sys.stderr)
        _warn(announcer.finish(rec, what="the run could not start"))
        return _Ran(ExitCode.FAILED, rec, run_dir, None)
    progress.close()
    record.save(run_dir, rec)  # the run folder was scrubbed: lock_token readable again (for unlock-stale)
    interrupt.flush()

    if outcome.no_hosts:  # bad input: the record is kept (Ansible's own words are in its stdout), no report
        reason = no_hosts_reason(run_dir)
        rec.finish("error", ExitCode.BAD_INPUT)
        _save(run_dir, rec, redactor)
        _warn(announcer.finish(rec, what="no host matched, nothing ran"))
        where = f"limit {request.limit!r}" if request.limit else "the inventory"
        said = f"; ansible-playbook said: {redactor.text(reason)}" if reason else ""
        raise BadInput(f"{where} matched no host for {scenario.name} (it acts on hosts: {scenario.hosts}; "
                       f"inventory: {redactor.text(inventory_tried(request))}){said}; record: {run_dir}")
    vault_said = vault_failure(outcome, run_dir)
    if vault_said:  # a controller-side mistake, nothing changed: bad input, no incident record
        record.discard(run_dir)
        rec.finish("error", ExitCode.BAD_INPUT)
        _warn(announcer.finish(rec, what="a vaulted value could not be decrypted, nothing changed"))
        raise BadInput(f"a vaulted variable could not be decrypted, nothing changed: {redactor.text(vault_said)}; "
                       "give the vault password with --vault-password-file, --vault-id or --ask-vault-pass")
    if outcome.interrupted:
        _after_interrupt(request, outcome, run_dir, redactor, progress, interrupt)

    code = outcome.exit_code()
    if not outcome.host_results and code not in (ExitCode.OK, ExitCode.INTERRUPTED):
        for line in output_tail(run_dir):
            progress.line(line)
    rec.hosts = outcome.hosts
    rec.stats = outcome.stats
    rec.published = redactor.data(outcome.published)
    rec.finish(outcome.result(), int(code))
    rec.escalation_contacts = redactor.data(announcer.contacts())
    rec.warnings = _warnings_of(run_dir, redactor)
    facts = report.read_facts(run_dir, rec.published)
    report_path = report.write_report(run_dir, rec, facts, redactor)
    _save(run_dir, rec, redactor)

    interrupt.flush()
    progress.finish(f"{report.result_text(rec)} after {report.format_duration(rec.duration)}; "
                    f"report: {report_path}", ok=code == ExitCode.OK)
    _warn(announcer.finish(rec, facts, report_path))
    return _Ran(int(code), rec, run_dir, report_path)


# triage ----------------------------------------------------------------


def cmd_triage(args: argparse.Namespace) -> int:
    """Diagnose (one kept run of the diagnose scenario), then print each host's verdicts; with --fix, act on them."""
    began = time.monotonic()
    if args.yes and not args.fix:
        raise BadInput("--yes goes with --fix (triage alone changes nothing)")
    project = paths.project_dir()
    catalog = load_catalog(project)
    rules = load_rules(project / triage.RULES_FILE, catalog.scenarios)  # a bad file: exit 2, nothing run
    request, extra, vault = _scenario_request(args, project, catalog.get(triage.DIAGNOSE))
    if args.fix:  # the breaker's settings in the inventory: bad ones are bad input, before anything runs
        _check_triage_settings(project, request.inventory)
    runs = paths.writable_runs_dir()
    redactor = _redactor(extra, vault)
    # the proposed commands log in and read -e as this triage did (secret-looking -e values masked)
    options = request.connection.args()
    for item in args.extra_vars:
        options += ["-e", _shown_extra_vars(item)]
    diagnosed = _diagnose(args, request, runs, redactor, rules, options)
    if diagnosed.hosts is None:
        return diagnosed.ran.code
    ran, hosts = diagnosed.ran, diagnosed.hosts
    titles = {name: scenario.title for name, scenario in catalog.scenarios.items()}
    if not args.fix:
        if args.json:
            print(json.dumps({"run_id": ran.rec.run_id, "result": ran.rec.result, "exit_code": ran.code,
                              "run_dir": str(ran.run_dir), "report": str(ran.report), "hosts": hosts}, indent=2),
                  flush=True)
        else:
            for host, found in hosts.items():
                for line in triage.host_lines(host, found, titles):
                    print(line)
        return ran.code
    return _triage_fix(args, request, catalog, rules, runs, redactor, options, began, diagnosed, titles)


@dataclass(frozen=True)
class _Diagnosed:
    """A diagnosis run and each host's triage (None: it was interrupted or could not start)."""

    ran: _Ran
    hosts: dict[str, dict[str, Any]] | None
    began: float  # time.monotonic() at its start: its data is at most this old
    ended: float  # time.monotonic() once the verdicts were known
    diagnoses: dict[str, dict[str, Any]]


def _diagnose(args: argparse.Namespace, request: RunRequest, runs: Path, redactor: Redactor,
              rules: Sequence[Any], options: list[str]) -> _Diagnosed:
    """Run the diagnose scenario once (a kept run) and rank each host's verdicts."""
    began = time.monotonic()
    progress = Progress(hangup_safe(sys.stderr if args.json else sys.stdout), redactor, verbose=args.verbose > 0)
    interrupt = Interrupt(notify=lambda text: progress.line(f"runbook: {text}"))
    with interrupt.installed():
        ran = _run(args, request, runs, redactor, progress, interrupt)
    if ran.report is None or ran.code == ExitCode.INTERRUPTED:
        return _Diagnosed(ran, None, began, time.monotonic(), {})
    diagnoses = ran.rec.published.get("diagnosis") or {}
    unreachable = {host for host, count in ran.rec.stats.get("dark", {}).items() if count}
    hosts = triage.per_host(rules, diagnoses, ran.rec.hosts, unreachable, request.inventory, options)
    return _Diagnosed(ran, hosts, began, time.monotonic(), diagnoses)


def _check_triage_settings(project: Path, inventory: list[str]) -> None:
    """runbook_triage_max_fixes and runbook_triage_window as the inventory sets them: BadInput when wrong."""
    settings = inventory_vars.read_settings(project, inventory)
    for name in inventory_vars.TRIAGE_VARS:
        if name in settings.values:
            problem = triage_setting_problem(name, str(settings.values[name]).strip())
            if problem:
                raise BadInput(f"the inventory's {problem}")


def _triage_fix(args: argparse.Namespace, request: RunRequest, catalog: Any, rules: Sequence[Any], runs: Path,
                redactor: Redactor, options: list[str], began: float, diagnosed: _Diagnosed,
                titles: dict[str, str]) -> int:
    """--fix: confirm, check the diagnosis's age, the breaker on the host, one fix run per verdict, diagnose again."""
    first = diagnosed.hosts or {}
    planned = triage_fix.plan(first)
    confirmed = triage_fix.scenarios(planned)
    for name in sorted(confirmed):
        confirm(catalog.get(name), args.yes)  # nobody to confirm a destructive one: refused (4), nothing changed
    note = (lambda text: print(f"runbook: {text}", file=sys.stderr if args.json else sys.stdout, flush=True))
    if triage_fix.to_run(planned) and not triage_fix.is_fresh(diagnosed.began, time.monotonic()):
        note(f"the diagnosis is {triage_fix.age(diagnosed.began, time.monotonic()):.0f} s old (more than "
             f"{triage_fix.FRESH_FOR:.0f} s): diagnosing again before acting on it")
        again = replace(request, limit=",".join(sorted(triage_fix.to_run(planned))), lock_token=secrets.token_hex(8))
        diagnosed = _diagnose(args, again, runs, redactor, rules, options)
        if diagnosed.hosts is None:
            return diagnosed.ran.code
        planned = triage_fix.plan(diagnosed.hosts)
        unconfirmed = sorted(name for name in triage_fix.scenarios(planned) - confirmed
                             if catalog.get(name).destructive and not args.yes)
        if unconfirmed:
            raise Refused(f"the new diagnosis proposes {', '.join(unconfirmed)}, destructive and not confirmed; "
                          "nothing was fixed (run runbook triage --fix again)")
        if triage_fix.to_run(planned) and not triage_fix.is_fresh(diagnosed.began, time.monotonic()):
            raise Refused(f"the diagnosis took more than {triage_fix.FRESH_FOR:.0f} s twice; nothing was fixed "
                          f"(run the proposed commands yourself: runbook triage without --fix)")
    hosts = {**first, **(diagnosed.hosts or {})}  # a host diagnosed again: its fresh verdicts
    acted_age = triage_fix.age(diagnosed.began, time.monotonic())
    detected = diagnosed.ended - began
    if triage_fix.to_run(planned) and not _breaker(request, redactor, planned, diagnosed.ran.rec.escalation_contacts,
                                                   note):
        return ExitCode.INTERRUPTED
    fixed: list[str] = []
    for scenario_name, verdict_vars, group in triage_fix.groups(planned):
        scenario = catalog.get(scenario_name)
        checked = check_extra_vars(scenario, {**request.extra_vars, **verdict_vars})
        fix_request = replace(request, scenario=scenario, limit=",".join(group), extra_vars=checked,
                              lock_token=secrets.token_hex(8))
        progress = Progress(hangup_safe(sys.stderr if args.json else sys.stdout), redactor,
                            verbose=args.verbose > 0)
        interrupt = Interrupt(notify=lambda text: progress.line(f"runbook: {text}"))
        with interrupt.installed():
            ran = _run(args, fix_request, runs, redactor, progress, interrupt)
        for host in group:
            planned[host].fix = {"scenario": scenario_name, "run_id": ran.rec.run_id, "exit_code": ran.code}
        if ran.code == ExitCode.INTERRUPTED:
            return ran.code
        fixed += group
    again_id = None
    if fixed:
        again = replace(request, limit=",".join(sorted(fixed)), lock_token=secrets.token_hex(8))
        after = _diagnose(args, again, runs, redactor, rules, options)
        if after.hosts is None:
            return after.ran.code
        again_id = after.ran.rec.run_id
        triage_fix.judge(planned, rules, after.diagnoses, after.hosts, fixed, after.ended - began)
    summaries = {host: triage_fix.host_summary(found, planned.get(host), detected) for host, found in hosts.items()}
    _keep_triage(diagnosed.ran, triage_fix.record_summary(diagnosed.ran.rec.run_id, again_id, summaries, acted_age),
                 redactor)
    code = _fix_exit_code(diagnosed.ran.code, summaries)
    if args.json:
        print(json.dumps({"run_id": diagnosed.ran.rec.run_id, "result": diagnosed.ran.rec.result, "exit_code": code,
                          "run_dir": str(diagnosed.ran.run_dir), "report": str(diagnosed.ran.report),
                          "fix": True, "diagnosis_age_s": round(acted_age, 1), "rediagnosis_run_id": again_id,
                          "hosts": summaries}, indent=2), flush=True)
    else:
        for host, summary in summaries.items():
            for line in triage.host_lines(host, summary, titles) + triage_fix.fix_lines(host, summary):
                print(line)
    for summary in summaries.values():
        if summary.get("escalate"):
            print(f"runbook: {summary['refused']}", file=sys.stderr, flush=True)
    return code


def _breaker(request: RunRequest, redactor: Redactor, planned: dict[str, triage_fix.HostFix],
             contacts: dict[str, Any], note: Callable[[str], None]) -> bool:
    """Record the planned fixes on their hosts under the run lock, or find the breaker tripped (host clock).
    False when it was interrupted (its run lock given back, nothing fixed)."""
    fix_plan = {host: entry.verdict["scenario"] for host, entry in triage_fix.to_run(planned).items()
                if entry.verdict is not None}
    token = secrets.token_hex(8)
    breaker = ReleaseRequest(request.project, request.inventory, ",".join(sorted(fix_plan)),
                             {**request.extra_vars, triage_fix.PLAN_VAR: fix_plan, LOCK_TOKEN_VAR: token},
                             request.connection)
    interrupt = Interrupt(notify=note)
    with interrupt.installed():
        try:
            result = run_internal(triage_fix.FIX_LOG_PLAYBOOK, breaker, redactor, should_stop=interrupt.should_cancel,
                                  timeout=TIMEOUT + 300)  # the run lock's wait (300 s) and the record itself
        except ReleaseError as exc:
            triage_fix.apply_breaker(planned, {}, [f"{host}: {exc}" for host in fix_plan], contacts)
            return True
        if interrupt.requested:  # the playbook was stopped before its `always`: give its lock back
            note("giving the circuit breaker's run lock back on the hosts ...")
            with interrupt.shielded():
                try:
                    release_lock(breaker, redactor, should_stop=interrupt.keep_going)
                except ReleaseError as exc:
                    note(f"giving the lock back failed: {exc}; {STALE_NOTE}")
            return False
    triage_fix.apply_breaker(planned, result.outcome.published, result.failures, contacts)
    return True


def _keep_triage(ran: _Ran, summary: dict[str, Any], redactor: Redactor) -> None:
    """The triage's summary in the diagnosis's run.json and report."""
    ran.rec.triage = redactor.data(summary)
    record.save(ran.run_dir, ran.rec)
    report.write_report(ran.run_dir, ran.rec, redactor=redactor)


def _fix_exit_code(diagnosis_code: int, summaries: dict[str, dict[str, Any]]) -> int:
    """4 when the breaker refused a fix or a security verdict was only reported, else the worst of: a host
    unreachable (3), a fix that failed, did not clear, or whose fix log could not be written (1)."""
    if any(summary.get("escalate") or (summary.get("refused") and triage_fix.is_report_only(summary["verdicts"][0]))
           for summary in summaries.values()):
        return ExitCode.REFUSED  # the breaker tripped (escalate), or security: a person acts
    codes = [diagnosis_code] + [summary["fix"]["exit_code"] for summary in summaries.values() if summary.get("fix")]
    if ExitCode.UNREACHABLE in codes:
        return ExitCode.UNREACHABLE
    if any(code != ExitCode.OK for code in codes) or any(summary.get("cleared") is False
                                                         for summary in summaries.values()):
        return ExitCode.FAILED
    if any(summary.get("refused") for summary in summaries.values()):
        return ExitCode.FAILED  # the fix log could not be written: nothing ran there
    return ExitCode.OK


def _save(run_dir: Path, rec: record.RunRecord, redactor: Redactor) -> None:
    """Scrub the run folder, then write run.json (last: its lock_token must stay readable)."""
    redactor.tree(run_dir)
    record.save(run_dir, rec)


def _warnings_of(run_dir: Path, redactor: Redactor) -> list[str]:
    """Python warnings of this process and of ansible-playbook (its stdout, already scrubbed)."""
    try:
        printed = (run_dir / "stdout").read_text(encoding="utf-8", errors="replace")
    except OSError:
        printed = ""
    found = [redactor.text(line) for line in WARNINGS.seen]
    return found + [line for line in interpreter_warnings(printed) if line not in found]


def _print_summary(rec: record.RunRecord, report_path: Path, run_dir: Path) -> None:
    summary = {
        "run_id": rec.run_id,
        "scenario": rec.scenario,
        "result": rec.result,
        "exit_code": rec.exit_code,
        "report": str(report_path),
        "run_dir": str(run_dir),
        "hosts": rec.hosts,
        "stats": rec.stats,
        "published": rec.published,
    }
    try:
        print(json.dumps(summary, indent=2), flush=True)
    except OSError:  # the terminal hung up or the pipe closed: the record is kept, nobody to tell
        silence(sys.stdout)


def _after_interrupt(request: RunRequest, outcome: RunOutcome, run_dir: Path, redactor: Redactor,
                     progress: Progress, interrupt: Interrupt) -> None:
    """The playbook was stopped: say what was left running, give the run lock back."""
    if outcome.left_running:
        pids = ", ".join(str(pid) for pid in outcome.left_running)
        progress.line(f"runbook: warning: processes of the stopped playbook did not end: {pids}")
    if not outcome.started:
        return  # stopped before ansible-playbook started: no lock was taken
    progress.line("runbook: giving the run lock back on the hosts ...")
    with interrupt.shielded():
        problem = _release(request, run_dir, redactor, interrupt)
        interrupt.flush()
    if not problem:
        progress.line(f"runbook: the run lock was given back ({LOG_FILE} in the run folder)")
        return
    progress.line(f"runbook: giving the run lock back failed: {problem}; {STALE_NOTE}, "
                  f"or release it now with: {_unlock_command(request)}")


def _release(request: RunRequest, run_dir: Path, redactor: Redactor, interrupt: Interrupt) -> str:
    """Run the release playbook with the run's token; its output to release.log; what went wrong, or ""."""
    release = ReleaseRequest(request.project, request.inventory, request.limit,
                             {**request.extra_vars, LOCK_TOKEN_VAR: request.lock_token}, request.connection)
    try:
        result = release_lock(release, redactor, should_stop=interrupt.keep_going)
    except ReleaseError as exc:
        return str(exc)
    append_log(run_dir / LOG_FILE, result,
               f"{RELEASE_PLAYBOOK} after {interrupt.signal_name}, {record.utc_now():%Y-%m-%d %H:%M:%S} UTC")
    return "" if result.released else result.reason()


def _unlock_command(request: RunRequest) -> str:
    words = ["runbook", "unlock-stale"]
    for inventory in request.inventory:
        words += ["-i", inventory]
    if request.limit:
        words += ["-l", request.limit]
    words += request.connection.args()
    for name, value in request.extra_vars.items():
        if (name == "runbook_state_dir" or name in CONNECTION_VARS) and not looks_secret(name):
            words += ["-e", f"{name}={value}"]
    words += ["--token", request.lock_token]
    return shlex.join(words)


def _start_record(args: argparse.Namespace, request: RunRequest, runs: Path,
                  redactor: Redactor) -> tuple[record.RunRecord, Path]:
    """Create the run folder and its run.json (result: running)."""
    scenario = request.scenario
    now = record.utc_now()
    run_id, run_dir = record.create_run_dir(runs, scenario.name, now)
    rec = record.RunRecord(
        run_id=run_id,
        scenario=scenario.name,
        title=scenario.title,
        section=scenario.section,
        severity=scenario.severity,
        destructive=scenario.destructive,
        started=now.isoformat(),
        command=_command_line(args),
        inventory=", ".join(request.inventory) or None,
        limit=request.limit,
        check=request.check,
        extra_vars=redactor.data(request.extra_vars),  # secret-looking names masked, at any depth
        lock_token=request.lock_token,
        operator=record.operator_id(),
        incident=args.incident,
        runbook_version=__version__,
        ansible_core_version=ansible_core_version(),
    )
    record.save(run_dir, rec)
    return rec, run_dir


def confirm(scenario: Scenario, confirmed: bool, check: bool = False,
            preview: Callable[[], list[str]] | None = None) -> None:
    """Ask before a destructive scenario; refuse when nobody can answer. A --check run changes nothing: no question.
    On a terminal, `preview` (rollback, deploy: the read-only probe's hosts and from -> to) is shown first."""
    if not scenario.destructive or confirmed or check:
        return
    if not (sys.stdin.isatty() and sys.stderr.isatty()):
        raise Refused(f"{scenario.name} is destructive ({scenario.title}); no terminal to confirm, re-run with --yes")
    print(f"{scenario.name} is destructive: {scenario.title} (runbook section {scenario.section}).", file=sys.stderr)
    if preview is not None:
        print("Reading what it would do (read-only probe, --check)...", file=sys.stderr, flush=True)
        for line in preview():
            print(line, file=sys.stderr)
    try:
        answer = input(f"Type '{scenario.name}' to run it: ")
    except EOFError:
        answer = ""
    if answer.strip() != scenario.name:
        raise Refused(f"{scenario.name} not confirmed")


def _shown_extra_vars(item: str) -> str:
    """One -e argument as the record shows it: every secret-looking name's value masked
    (a vars file by its name: its values are not shown). Called after the -e values were read."""
    if item.startswith("@"):
        return item
    given = read_extra_vars([item])
    if item.lstrip().startswith("{"):
        return json.dumps({name: REDACTED if looks_secret(name) else value for name, value in given.items()})
    return " ".join(f"{name}={mask(name, str(value))}" for name, value in given.items())


def _command_line(args: argparse.Namespace) -> str:
    """What was typed (`run` or `triage`), secret -e values masked (a vars file by its name: its values are not
    shown). The options only `run` has are read with defaults."""
    words = ["runbook", "run", args.scenario] if args.command == "run" else ["runbook", args.command]
    for inventory in args.inventory:
        words += ["-i", inventory]
    if args.limit:
        words += ["-l", args.limit]
    for item in args.extra_vars:
        words += ["-e", _shown_extra_vars(item)]
    run_only = vars(args)
    for flag, value in (("-u", args.user), ("--become-user", args.become_user), ("--private-key", args.private_key),
                        ("--ssh-common-args", args.ssh_common_args), ("-f", run_only.get("forks")),
                        ("--incident", args.incident)):
        if value is not None:
            words += [flag, str(value)]
    words += [word for vault_id in args.vault_id for word in ("--vault-id", vault_id)]
    words += [word for path in args.vault_password_file for word in ("--vault-password-file", path)]
    words += [word for tags in run_only.get("tags", []) for word in ("--tags", tags)]
    words += [word for tags in run_only.get("skip_tags", []) for word in ("--skip-tags", tags)]
    for flag, given in (("-b", args.become), ("--diff", run_only.get("diff")), ("--check", run_only.get("check")),
                        ("--fix", run_only.get("fix")), ("--yes", run_only.get("yes")),
                        ("--ask-vault-pass", args.ask_vault_pass)):
        if given:
            words.append(flag)
    if args.verbose:
        words.append("-" + "v" * args.verbose)
    return " ".join(word if REDACTED in word else shlex.quote(word) for word in words)


# unlock-stale ------------------------------------------------------------


def cmd_unlock_stale(args: argparse.Namespace) -> int:
    """Release a run lock left by a dead controller: exactly one run's (--token), else only a stale one."""
    project = paths.project_dir()
    vault = _vault(args, ansible_config.current(project))
    given = check_contract_vars("unlock-stale", read_extra_vars(args.extra_vars, Decryptor(vault)))
    token = check_token(args.token)
    wanted: dict[str, Any] = {LOCK_TOKEN_VAR: token} if token else {STALE_ONLY_VAR: True}
    request = ReleaseRequest(project, check_inventory(args.inventory), check_limit(args.limit), {**given, **wanted},
                             _connection(args, vault))
    if not (project / RELEASE_PLAYBOOK).is_file():
        raise BadInput(f"{RELEASE_PLAYBOOK} not found in {project}; set RUNBOOK_PROJECT_DIR to the project root")

    redactor = Redactor(secret_values(given))
    progress = Progress(hangup_safe(sys.stdout), redactor, verbose=args.verbose > 0)
    what = f"the lock of run token {token}" if token else "only a lock whose heartbeat is stale"
    progress.start(f"runbook unlock-stale: releasing {what}")
    interrupt = Interrupt(notify=lambda text: progress.line(f"runbook: {text}"))
    with interrupt.installed():
        try:
            result = release_lock(request, redactor, progress.handle, should_stop=interrupt.should_cancel)
        except ReleaseError as exc:
            progress.close()
            print(f"runbook: error: the release could not start: {exc}", file=sys.stderr)
            return ExitCode.FAILED
        interrupt.playbook_ended()
    progress.close()
    return _unlock_result(result, interrupt, progress, request)


def _unlock_result(result: ReleaseOutcome, interrupt: Interrupt, progress: Progress,
                   request: ReleaseRequest) -> int:
    if interrupt.requested:
        progress.finish("Interrupted (exit 130)", ok=False)
        return ExitCode.INTERRUPTED
    if result.outcome.no_hosts:
        where = f"limit {request.limit!r}" if request.limit else "the inventory"
        raise BadInput(f"{where} matched no host")
    code = ExitCode.FAILED if result.timed_out else result.outcome.exit_code()
    if code == ExitCode.OK:
        what = "that run's lock is not" if LOCK_TOKEN_VAR in request.extra_vars else "no stale lock is"
        progress.finish(f"Done (exit 0): {what} held any more", ok=True)
    else:
        progress.finish(f"Failed (exit {int(code)}): {result.reason(TIMEOUT)}", ok=False)
    return int(code)


# config ------------------------------------------------------------------


def cmd_config(as_json: bool) -> int:
    """The effective Ansible settings of a run started here, each with its origin."""
    config = ansible_config.current(paths.project_dir())
    data = config.to_dict()
    if as_json:
        print(json.dumps(data, indent=2))
        return ExitCode.OK
    if config.layered:
        print(f"# runs use a merged file: {config.user_file} (yours), the project's "
              f"{config.project_file} where yours has no value")
    else:
        print(f"# runs use the project's {config.project_file} (no ansible.cfg of yours found)")
    section = None
    for item in sorted(data["settings"], key=lambda row: (row["section"] != "defaults", row["section"])):
        if item["section"] != section:
            section = item["section"]
            print(f"[{section}]")
        print(f"{item['key']} = {item['value']}  # {item['origin']}")
    return ExitCode.OK


# history and report ----------------------------------------------------


def cmd_history(as_json: bool, incident: str | None = None, scenario: str | None = None,
                result: str | None = None) -> int:
    runs = [rec for rec in record.history(paths.runs_dir())
            if (incident is None or rec.incident == incident)
            and (scenario is None or rec.scenario == scenario)
            and (result is None or rec.result == result)]
    if as_json:
        print(json.dumps([_history_row(rec) for rec in runs], indent=2))
        return ExitCode.OK
    if not runs:
        chosen = " ".join(f"--{name} {value}" for name, value in
                          (("incident", incident), ("scenario", scenario), ("result", result)) if value)
        print(f"no runs kept in {paths.runs_dir()}" + (f" with {chosen}" if chosen else ""))
        return ExitCode.OK
    table = Table("RUN ID", "SCENARIO", "HOSTS", "START (UTC)", "DURATION", "RESULT", "INCIDENT",
                  box=None, pad_edge=False, header_style="bold")
    for rec in runs:
        row = _history_row(rec)
        table.add_row(row["id"], row["scenario"], ", ".join(row["hosts"]) or "-",
                      row["start"], report.format_duration(rec.duration),
                      row["result"] + (" (check)" if rec.check else ""), rec.incident or "-")
    _console(sys.stdout).print(table)
    return ExitCode.OK


def _history_row(rec: record.RunRecord) -> dict[str, Any]:
    return {
        "id": rec.run_id,
        "scenario": rec.scenario,
        "hosts": rec.hosts,
        "start": f"{rec.started_at:%Y-%m-%d %H:%M:%S}",
        "duration": rec.duration,
        "result": rec.result,
        "exit_code": rec.exit_code,
        "check": rec.check,
        "incident": rec.incident,
    }


def cmd_report(run_id: str) -> int:
    run_dir = record.find(paths.runs_dir(), run_id)
    rec = record.load(run_dir)
    path = report.write_report(run_dir, rec)
    sys.stdout.write(path.read_text(encoding="utf-8"))
    _warn([report.kept_note(path)])
    return ExitCode.OK


def cmd_report_incident(incident: str) -> int:
    path = incident_report.write(paths.runs_dir(), incident)
    sys.stdout.write(path.read_text(encoding="utf-8"))
    _warn([report.kept_note(path)])
    return ExitCode.OK


def _warn(lines: list[str]) -> None:
    """Warning lines on stderr; a terminal that went away must not stop anything."""
    for line in lines:
        if not line:
            continue
        try:
            print(line, file=sys.stderr, flush=True)
        except OSError:
            silence(sys.stderr)


def _console(stream: TextIO) -> Console:
    """A console for tables; off a terminal, rows are never wrapped (easy to grep)."""
    console = Console(file=stream, highlight=False, soft_wrap=True)
    if not console.is_terminal:
        console = Console(file=stream, highlight=False, soft_wrap=True, width=1000, no_color=True)
    return console
