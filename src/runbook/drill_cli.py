# SPDX-License-Identifier: GPL-3.0-or-later
"""`runbook drill NAME|--all -i INVENTORY [-l LIMIT] [--json]`: the command's parser and its run.

Everything is checked before anything changes (exit 2): the drills file, the
drill asked for, the inventory and that every targeted host is marked
runbook_staging: true. The report (report.md, chart.svg, drill.json) goes to a
`drill-<UTC time>` folder of the runs directory. Exit 0 when every drill
passed, 1 when one failed, 130 interrupted (the undo has run).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from runbook import drill_report, paths
from runbook.catalog import load_catalog
from runbook.drill import Drilling, staging_hosts
from runbook.drill_report import DrillResult
from runbook.drill_spec import DRILLS_FILE, load_drills, pick
from runbook.errors import ExitCode
from runbook.validate import check_inventory, check_limit


def add_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    drill_cmd = commands.add_parser(
        "drill", help="break staging hosts the ways the guide names, recover by triage, always undo, measure",
        description="Runs drills from playbooks/drill/drills.yml on hosts marked runbook_staging: true (any other "
                    "targeted host: refused, exit 2, nothing changed). Per drill: snapshot, inject, triage and run "
                    "its verdict, wait for the steady state, undo (always, also on Ctrl-C), compare the "
                    "snapshots. Writes report.md and chart.svg under the runs directory. Exit 0 all passed, "
                    "1 a drill failed, 2 bad input, 130 interrupted.")
    drill_cmd.add_argument("name", nargs="?", metavar="NAME", help="the drill to run (see playbooks/drill/drills.yml)")
    drill_cmd.add_argument("--all", action="store_true", dest="every", help="run every drill, in the file's order")
    drill_cmd.add_argument("-i", "--inventory", metavar="INVENTORY", action="append", default=[],
                           help="inventory file, directory or comma host list (repeatable)")
    drill_cmd.add_argument("-l", "--limit", metavar="LIMIT", help="limit to these hosts (ansible pattern)")
    drill_cmd.add_argument("--json", action="store_true", help="print the results as one JSON object")


def cmd_drill(args: argparse.Namespace) -> int:
    project = paths.project_dir()
    drills = pick(load_drills(project / DRILLS_FILE, load_catalog(project).scenarios), args.name, args.every)
    inventory = check_inventory(args.inventory)
    hosts = staging_hosts(project, inventory, check_limit(args.limit))
    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    folder = paths.writable_runs_dir() / f"drill-{started.replace(':', '').replace('-', '')}"
    results: list[DrillResult] = []
    code = ExitCode.OK
    try:
        Drilling(project, inventory, _say).run(drills, hosts, results)
    except KeyboardInterrupt:
        code = ExitCode.INTERRUPTED
        _say("drill: interrupted; the undo of the drill under way has run")
    report = _write(folder, results, started)
    if code == ExitCode.OK and not all(result.passed for result in results):
        code = ExitCode.FAILED
    if args.json:
        print(json.dumps({"report": str(report), "chart": str(folder / "chart.svg"), "exit_code": int(code),
                          "drills": [result.to_dict() for result in results]}, indent=2))
    else:
        print(drill_report.markdown(results, started).split("\n\n![")[0].split("\n\n", 2)[-1])
        print(f"\nreport: {report}\nchart: {folder / 'chart.svg'}")
    return int(code)


def _write(folder: Path, results: list[DrillResult], started: str) -> Path:
    report = drill_report.write(folder, results, started)
    (folder / "drill.json").write_text(json.dumps([result.to_dict() for result in results], indent=2) + "\n",
                                       encoding="utf-8")
    return report


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)
