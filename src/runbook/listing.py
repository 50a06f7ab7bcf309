# SPDX-License-Identifier: GPL-3.0-or-later
"""`runbook list` as text: most severe first, each scenario's `-e` values under it, within a width.

    SCENARIO  SEVERITY  SECTION  DESTRUCTIVE  TITLE
    rollback  P0        7        yes          Failed deployment / code rollback
      -e commit=COMMIT        Target, a 7-40 hex SHA, HEAD~N or last-good (...)
      -e no_cache=true|false  Rebuild images without the build cache; default false

Long titles and descriptions wrap under themselves; nothing is cut.
"""

from __future__ import annotations

import textwrap

from runbook.catalog import Catalog, VarSpec, by_severity

WIDTH = 100  # off a terminal
_HEADER = ("SCENARIO", "SEVERITY", "SECTION", "DESTRUCTIVE")
_GAP = "  "
_VAR_INDENT = "  "
_MIN_TEXT = 24  # narrower than this, a title or description starts on its own line
_MAX_VAR_COLUMN = 34  # a longer `-e name=values` puts its description on the next line


def listing(catalog: Catalog, width: int = WIDTH) -> list[str]:
    """The lines `runbook list` prints, none longer than `width` (at least 40)."""
    width = max(width, 40)
    scenarios = by_severity(catalog.scenarios.values())
    rows = [(s.name, s.severity, s.section, "yes" if s.destructive else "no") for s in scenarios]
    widths = [max(len(row[column]) for row in [_HEADER, *rows]) for column in range(len(_HEADER))]
    var_column = min(max((len(_var_usage(spec)) for s in scenarios for spec in s.extra_vars.values()),
                         default=0), _MAX_VAR_COLUMN)
    lines = _row(_HEADER, "TITLE", widths, width)
    for scenario, row in zip(scenarios, rows):
        lines += _row(row, scenario.title, widths, width)
        for spec in scenario.extra_vars.values():
            lines += _var_lines(spec, var_column, width)
    for item in catalog.uncatalogued:
        lines += textwrap.wrap(f"uncatalogued: playbooks/{item.path.name}: {item.reason}", width,
                               subsequent_indent="  ")
    return lines


def _row(cells: tuple[str, ...], title: str, widths: list[int], width: int) -> list[str]:
    prefix = _GAP.join(cell.ljust(size) for cell, size in zip(cells, widths)) + _GAP
    return _hanging(prefix, title, width)


def _var_usage(spec: VarSpec) -> str:
    return f"-e {spec.name}={spec.accepted}"


def _var_text(spec: VarSpec) -> str:
    text = spec.description.strip().rstrip(".")
    default = spec.default_text
    if default and "default" not in text.lower():
        text = f"{text}; default {default}" if text else f"default {default}"
    return text


def _var_lines(spec: VarSpec, column: int, width: int) -> list[str]:
    usage = _VAR_INDENT + _var_usage(spec)
    text = _var_text(spec)
    if not text:
        return textwrap.wrap(usage, width, subsequent_indent=_VAR_INDENT * 2) or [usage]
    prefix = usage.ljust(len(_VAR_INDENT) + column) + _GAP
    return _hanging(prefix, text, width)


def _hanging(prefix: str, text: str, width: int) -> list[str]:
    """`prefix` then `text` wrapped in the room left, continuation lines under the text's start."""
    room = width - len(prefix)
    if room >= _MIN_TEXT:
        wrapped = textwrap.wrap(text, room) or [""]
        return [(prefix + wrapped[0]).rstrip()] + [" " * len(prefix) + line for line in wrapped[1:]]
    indent = _VAR_INDENT * 2
    head = textwrap.wrap(prefix.rstrip(), width, subsequent_indent=indent) or [""]
    return head + textwrap.wrap(text, width, initial_indent=indent, subsequent_indent=indent)

