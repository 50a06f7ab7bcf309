# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""The host's processes from one `ps` call, with one set of keys for every module that lists them.

A process: pid, user, cpu (%CPU), mem (%MEM), rss_kb (resident set, KiB), command
(arguments on one line, cut to COMMAND_WIDTH). runbook_diagnose (top_cpu, top_mem) and
runbook_resources (top_cpu, top_mem) return these.
"""

from __future__ import annotations


PS_FORMAT = "pid=,user:32=,pcpu=,pmem=,rss=,args="
PS_ARGV = ["ps", "-eo", PS_FORMAT]
COMMAND_WIDTH = 80


def parse_ps(text, skip=()):
    """Processes of `ps -eo pid=,user:32=,pcpu=,pmem=,rss=,args=`, without the pids in skip and without
    the ps call itself (any process whose arguments carry PS_FORMAT: ps, and a `timeout` around it)."""
    processes = []
    for line in text.splitlines():
        fields = line.split(None, 5)
        if len(fields) < 5 or not fields[0].isdigit() or int(fields[0]) in skip:
            continue
        command = " ".join(fields[5].split()) if len(fields) == 6 else ""  # one line, single blanks
        if PS_FORMAT in command.split():
            continue
        if len(command) > COMMAND_WIDTH:
            command = command[:COMMAND_WIDTH - 3] + "..."
        processes.append({"pid": int(fields[0]), "user": fields[1], "cpu": float(fields[2]),
                          "mem": float(fields[3]), "rss_kb": int(fields[4]), "command": command})
    return processes


def top(processes, key, count):
    """The count processes highest in key (cpu or mem); ties go to the larger resident memory, then the lower pid."""
    return sorted(processes, key=lambda process: (-process[key], -process["rss_kb"], process["pid"]))[:count]
