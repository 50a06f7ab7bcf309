"""The `runbook` command: list, run, history, report."""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn, TextIO

from rich.console import Console
from rich.table import Table

from runbook import paths, record, report
from runbook.catalog import Scenario, load_catalog
from runbook.errors import BadInput, ExitCode, Refused
from runbook.progress import Progress
from runbook.redact import REDACTED, Redactor, looks_secret, mask
from runbook.runner import RunRequest, execute, output_tail
from runbook.validate import check_extra_vars, check_inventory, check_limit, parse_assignments


class _Parser(argparse.ArgumentParser):
    """argparse, but bad usage is one line: `runbook: error: ...`, exit 2."""

    def error(self, message: str) -> NoReturn:
        print(f"runbook: error: {message}", file=sys.stderr)
        sys.exit(ExitCode.BAD_INPUT)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="runbook", description="Incident-response runbook scenarios, run through ansible-runner.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    list_cmd = commands.add_parser("list", help="scenarios with severity, runbook section, destructive or not")
    list_cmd.add_argument("--json", action="store_true", help="print the catalog as JSON")

    run_cmd = commands.add_parser("run", help="run a scenario's playbook and write the incident report")
    run_cmd.add_argument("scenario", metavar="SCENARIO")
    run_cmd.add_argument("-i", "--inventory", metavar="INVENTORY", help="inventory file or directory")
    run_cmd.add_argument("-l", "--limit", metavar="LIMIT", help="limit to these hosts (ansible pattern)")
    run_cmd.add_argument("-e", "--extra-vars", metavar="KEY=VALUE", action="append", default=[],
                         help="extra variable accepted by the scenario (repeatable)")
    run_cmd.add_argument("--check", action="store_true", help="dry run: ansible --check, nothing changes")
    run_cmd.add_argument("--yes", action="store_true", help="confirm a destructive scenario without asking")
    run_cmd.add_argument("--json", action="store_true", help="print a JSON summary at the end (progress on stderr)")

    history_cmd = commands.add_parser("history", help="kept runs")
    history_cmd.add_argument("--json", action="store_true", help="print the runs as JSON")

    report_cmd = commands.add_parser("report", help="(re)write and print the incident report of a run")
    report_cmd.add_argument("run_id", metavar="RUN_ID")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "list":
            return cmd_list(args.json)
        if args.command == "run":
            return cmd_run(args)
        if args.command == "history":
            return cmd_history(args.json)
        return cmd_report(args.run_id)
    except BadInput as exc:
        print(f"runbook: error: {exc}", file=sys.stderr)
        return ExitCode.BAD_INPUT
    except Refused as exc:
        print(f"runbook: refused: {exc}", file=sys.stderr)
        return ExitCode.REFUSED
    except KeyboardInterrupt:
        print("runbook: interrupted", file=sys.stderr)
        return ExitCode.INTERRUPTED


# list ------------------------------------------------------------------


def cmd_list(as_json: bool) -> int:
    catalog = load_catalog(paths.project_dir())
    scenarios = list(catalog.scenarios.values())
    if as_json:
        data = {
            "scenarios": [scenario.to_dict() for scenario in scenarios],
            "uncatalogued": [{"name": item.name, "reason": item.reason} for item in catalog.uncatalogued],
        }
        print(json.dumps(data, indent=2))
        return ExitCode.OK
    table = Table("SCENARIO", "SEVERITY", "SECTION", "DESTRUCTIVE", "TITLE", "EXTRA VARS",
                  box=None, pad_edge=False, header_style="bold")
    for scenario in scenarios:
        table.add_row(scenario.name, scenario.severity, scenario.section,
                      "yes" if scenario.destructive else "no", scenario.title, _var_summary(scenario))
    console = _console(sys.stdout)
    console.print(table)
    for item in catalog.uncatalogued:
        console.print(f"uncatalogued: playbooks/{item.path.name}: {item.reason}")
    return ExitCode.OK


def _var_summary(scenario: Scenario) -> str:
    parts = []
    for name, spec in scenario.extra_vars.items():
        default = spec.default
        if isinstance(default, bool):
            default = "true" if default else "false"
        parts.append(f"{name}={default}" if default is not None else name)
    return ", ".join(parts) or "-"


# run -------------------------------------------------------------------


def cmd_run(args: argparse.Namespace) -> int:
    project = paths.project_dir()
    scenario = load_catalog(project).get(args.scenario)
    given = parse_assignments(args.extra_vars)
    extra_vars = check_extra_vars(scenario, given)
    request = RunRequest(
        scenario=scenario,
        project=project,
        inventory=check_inventory(args.inventory),
        limit=check_limit(args.limit),
        extra_vars=extra_vars,
        check=args.check,
    )
    confirm(scenario, args.yes)

    secrets = [str(value) for name, value in given.items() if looks_secret(name)]
    redactor = Redactor(secrets)
    runs = paths.runs_dir()
    rec, run_dir = _start_record(args, request, given, runs)
    run_id = rec.run_id

    out = sys.stderr if args.json else sys.stdout
    progress = Progress(out, redactor)
    progress.start(f"runbook run {scenario.name}: {scenario.title} (section {scenario.section}, {scenario.severity}), run {run_id}")
    try:
        outcome = execute(request, runs, run_id, redactor, progress.handle)
    except Exception as exc:  # ansible-runner could not start the run at all
        progress.close()
        rec.finish("error", ExitCode.FAILED)
        record.save(run_dir, rec)
        redactor.tree(run_dir)
        print(f"runbook: error: the run could not start: {redactor.text(str(exc))}", file=sys.stderr)
        return ExitCode.FAILED
    progress.close()

    if outcome.no_hosts:
        record.discard(run_dir)
        where = f"limit {request.limit!r}" if request.limit else "the inventory"
        raise BadInput(f"{where} matched no host for {scenario.name} (it acts on hosts: {scenario.hosts})")

    code = outcome.exit_code()
    if not outcome.host_results and code != ExitCode.OK:
        for line in output_tail(run_dir):
            progress.line(line)
    rec.hosts = outcome.hosts
    rec.stats = outcome.stats
    rec.published = redactor.data(outcome.published)
    rec.finish(outcome.result(), int(code))
    record.save(run_dir, rec)
    report_path = report.write_report(run_dir, rec)
    redactor.tree(run_dir)

    progress.finish(f"{report.result_text(rec)} after {report.format_duration(rec.duration)}; "
                    f"report: {report_path}", ok=code == ExitCode.OK)
    if args.json:
        summary = {
            "run_id": run_id,
            "scenario": scenario.name,
            "result": rec.result,
            "exit_code": int(code),
            "report": str(report_path),
            "run_dir": str(run_dir),
            "hosts": rec.hosts,
            "stats": rec.stats,
            "published": rec.published,
        }
        print(json.dumps(summary, indent=2))
    return int(code)


def _start_record(args: argparse.Namespace, request: RunRequest, given: dict[str, str],
                  runs: Path) -> tuple[record.RunRecord, Path]:
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
        command=_command_line(args, given),
        inventory=request.inventory,
        limit=request.limit,
        check=request.check,
        extra_vars={name: mask(name, value) if isinstance(value, str) else value
                    for name, value in request.extra_vars.items()},
    )
    record.save(run_dir, rec)
    return rec, run_dir


def confirm(scenario: Scenario, confirmed: bool) -> None:
    """Ask before a destructive scenario; refuse when nobody can answer."""
    if not scenario.destructive or confirmed:
        return
    if not (sys.stdin.isatty() and sys.stderr.isatty()):
        raise Refused(f"{scenario.name} is destructive ({scenario.title}); no terminal to confirm, re-run with --yes")
    print(f"{scenario.name} is destructive: {scenario.title} (runbook section {scenario.section}).", file=sys.stderr)
    try:
        answer = input(f"Type '{scenario.name}' to run it: ")
    except EOFError:
        answer = ""
    if answer.strip() != scenario.name:
        raise Refused(f"{scenario.name} not confirmed")


def _command_line(args: argparse.Namespace, given: dict[str, str]) -> str:
    words = ["runbook", "run", args.scenario]
    if args.inventory:
        words += ["-i", args.inventory]
    if args.limit:
        words += ["-l", args.limit]
    for name, value in given.items():
        words += ["-e", f"{name}={mask(name, value)}"]
    if args.check:
        words.append("--check")
    if args.yes:
        words.append("--yes")
    return " ".join(word if REDACTED in word else shlex.quote(word) for word in words)


# history and report ----------------------------------------------------


def cmd_history(as_json: bool) -> int:
    runs = record.history(paths.runs_dir())
    if as_json:
        print(json.dumps([_history_row(rec) for rec in runs], indent=2))
        return ExitCode.OK
    if not runs:
        print(f"no runs kept in {paths.runs_dir()}")
        return ExitCode.OK
    table = Table("RUN ID", "SCENARIO", "HOSTS", "START (UTC)", "DURATION", "RESULT",
                  box=None, pad_edge=False, header_style="bold")
    for rec in runs:
        row = _history_row(rec)
        table.add_row(row["id"], row["scenario"], ", ".join(row["hosts"]) or "-",
                      row["start"], report.format_duration(rec.duration),
                      row["result"] + (" (check)" if rec.check else ""))
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
    }


def cmd_report(run_id: str) -> int:
    run_dir = record.find(paths.runs_dir(), run_id)
    rec = record.load(run_dir)
    path = report.write_report(run_dir, rec)
    sys.stdout.write(path.read_text(encoding="utf-8"))
    return ExitCode.OK


def _console(stream: TextIO) -> Console:
    """A console for tables; off a terminal, rows are never wrapped (easy to grep)."""
    console = Console(file=stream, highlight=False, soft_wrap=True)
    if not console.is_terminal:
        console = Console(file=stream, highlight=False, soft_wrap=True, width=1000, no_color=True)
    return console
