# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Error lines of a log (`docker logs --timestamps`, the proxy's error log): pure functions, and tail_file."""

from __future__ import annotations

import os
import re


ERROR_PATTERN = r"error|fatal|exception|panic|crit|traceback|\[(alert|emerg)\]"
# Real escape sequences (CSI and OSC) and their printed forms: \x1b[2K, \u001b[31m, \033[0m, \e[1m.
ANSI = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]"
    r"|\\(?:x1[bB]|u001[bB]|033|e)\[[0-?]*[ -/]*[@-~]"
)
# The RFC 3339 time `docker logs --timestamps` puts in front of each line.
DOCKER_TIME = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.\d+)?(Z|[+-]\d\d:\d\d) ")
DOCKER_TIME_PARTS = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d) ")


def strip_ansi(text):
    return ANSI.sub("", text)


def clean_log_line(line):
    """A log line without ANSI sequences, Docker's time cut to the second (2026-11-29T12:05:39Z)."""
    line = strip_ansi(line).rstrip()
    found = DOCKER_TIME.match(line)
    if found:
        zone = "Z" if found.group(2) in ("Z", "+00:00") else found.group(2)
        line = found.group(1) + zone + " " + line[found.end():]
    return line


def log_time(line):
    """Sort key of a `docker logs --timestamps` line: its time, the fraction padded (Docker trims its zeros)."""
    found = DOCKER_TIME_PARTS.match(line)
    if not found:
        return ("", "")
    return (found.group(1), (found.group(2) or "").ljust(9, "0"))


def error_lines(lines, pattern, keep):
    """The last keep lines that match pattern (case-insensitive), cleaned, oldest first."""
    matcher = re.compile(pattern, re.IGNORECASE)
    found = [clean_log_line(line) for line in lines]
    found = [line for line in found if line and matcher.search(line)]
    return found[-keep:] if keep > 0 else []


def merged_docker_logs(out, err):
    """`docker logs` writes the container's stdout and stderr to its own: both, in time order."""
    return sorted(out.splitlines() + err.splitlines(), key=log_time)


def tail_file(path, count, block=65536):
    """The last count lines of a file, read from its end."""
    with open(path, "rb") as f:
        f.seek(0, os.SEEK_END)
        end = position = f.tell()
        data = b""
        while position > 0 and data.count(b"\n") <= count:
            position = max(0, position - block)
            f.seek(position)
            data = f.read(end - position)
    return data.decode("utf-8", "replace").splitlines()[-count:]
