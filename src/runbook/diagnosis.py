# SPDX-License-Identifier: GPL-3.0-or-later
"""The shape of a published diagnosis, defined once.

The diagnose role publishes `diagnosis` ({host: diagnosis}) with set_stats;
the filter runbook.ops.diagnose_data builds each host's value in this shape,
and the incident report reads it back into tables. Both import this module,
so a field added or renamed here changes what is published and what is shown.
"""

from __future__ import annotations

PROCESS_COLUMNS = (("PID", "pid"), ("User", "user"), ("CPU%", "cpu"), ("MEM%", "mem"), ("Command", "command"))

# (title in the report, key of the list, its columns: (heading, field))
TABLES = (
    ("Checks", "checks", (("Check", "check"), ("Result", "result"))),
    ("Containers", "containers",
     (("Container", "name"), ("State", "state"), ("Since", "since"), ("Restarts", "restarts"), ("Health", "health"))),
    ("Services", "services", (("Service", "name"), ("State", "state"), ("Since", "since"))),
    ("Disk", "disk", (("Mount", "mount"), ("Size", "size"), ("Used", "used"), ("Avail", "avail"), ("Use%", "use_pct"))),
    ("Top processes by CPU", "top_cpu", PROCESS_COLUMNS),
    ("Top processes by memory", "top_mem", PROCESS_COLUMNS),
)

# memory: one mapping, shown as one sentence (label, field; megabytes)
MEMORY = (("total", "total_mb"), ("used", "used_mb"), ("available", "available_mb"), ("swap used", "swap_used_mb"))

# What every host's published value carries (checks and guide only when the probe read the guide's items).
KEYS = ("containers", "services", "disk", "memory", "top_cpu", "top_mem", "log_errors")


# Fields published with each row beyond the report's columns: what triage reads (the compose service a verdict
# names, whether the kernel's OOM killer ended the container).
EXTRA_FIELDS = {"containers": ("service", "oom_killed")}


def published(key: str) -> tuple[str, ...]:
    """The fields published with one row of the list `key`: its report columns, then its extra fields."""
    return fields(key) + EXTRA_FIELDS.get(key, ())


def fields(key: str) -> tuple[str, ...]:
    """The fields of one row of the list `key` (or of `memory`)."""
    if key == "memory":
        return tuple(field for _, field in MEMORY)
    for _, name, columns in TABLES:
        if name == key:
            return tuple(field for _, field in columns)
    raise KeyError(key)
