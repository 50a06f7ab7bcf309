# SPDX-License-Identifier: GPL-3.0-or-later
"""The drill report: a markdown table per failure and a hand-made SVG bar chart of the times.

Written from measured results (DrillResult), compared with the guide's targets:
assess <= 2 min (time-to-detect), fix <= 10 min (the scenario's run), verified
<= 15 min (time-to-recover: the steady state holds again).
"""

from __future__ import annotations

import html
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ASSESS_S = 120
FIX_S = 600
VERIFIED_S = 900


@dataclass
class DrillResult:
    drill: str
    host: str
    failure: str
    expected: str
    proposed: str = ""  # triage's top verdict's scenario; "" when none
    detect_s: float | None = None  # injection done -> triage verdict
    fix_s: float | None = None  # the scenario's run
    recover_s: float | None = None  # injection done -> steady state holds again; None: it never did
    left_as_found: bool = False
    differences: list[str] = field(default_factory=list)  # snapshot before vs after the undo
    problems: list[str] = field(default_factory=list)  # what went wrong, in words

    @property
    def passed(self) -> bool:
        return not self.failures()

    def failures(self) -> list[str]:
        """Why this drill failed, as lines; [] when it passed."""
        why = list(self.problems)
        if self.proposed != self.expected:
            why.append(f"triage proposed {self.proposed or 'nothing'}, expected {self.expected}")
        if self.detect_s is None or self.detect_s > ASSESS_S:
            why.append(f"time-to-detect {_s(self.detect_s)} over the {ASSESS_S}s target")
        if self.fix_s is not None and self.fix_s > FIX_S:
            why.append(f"the fix took {_s(self.fix_s)}, over the {FIX_S}s target")
        if self.recover_s is None or self.recover_s > VERIFIED_S:
            why.append(f"time-to-recover {_s(self.recover_s)} over the {VERIFIED_S}s target")
        if not self.left_as_found:
            why.append("the host was not left as found" + (f": {'; '.join(self.differences)}"
                                                           if self.differences else ""))
        return list(dict.fromkeys(why))

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "passed": self.passed, "failures": self.failures()}


def _s(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds:.1f}s"


def _yn(flag: bool) -> str:
    return "y" if flag else "n"


def markdown(results: list[DrillResult], started: str, chart_name: str = "chart.svg") -> str:
    """The whole report: a summary table, then one table per failure with its verdict and failures."""
    passed = sum(result.passed for result in results)
    lines = [f"# Drill report, {started}", "",
             f"{passed} of {len(results)} drills passed. Targets (the guide's critical checklist): "
             f"assess <= {ASSESS_S // 60} min (detect), fix <= {FIX_S // 60} min, "
             f"verified <= {VERIFIED_S // 60} min (recover).", "",
             "| drill | host | expected | proposed | detect | fix | recover | pass | left as found |",
             "|---|---|---|---|---|---|---|---|---|"]
    for result in results:
        lines.append(f"| {result.drill} | {result.host} | {result.expected} | {result.proposed or '-'} | "
                     f"{_s(result.detect_s)} | {_s(result.fix_s)} | {_s(result.recover_s)} | "
                     f"{'pass' if result.passed else 'FAIL'} | {_yn(result.left_as_found)} |")
    lines += ["", f"![detect and recover times]({chart_name})", ""]
    for result in results:
        lines += [f"## {result.drill} on {result.host}: {'pass' if result.passed else 'FAIL'}", "",
                  result.failure, "",
                  "| measure | value | target | within |", "|---|---|---|---|",
                  f"| scenario | {result.proposed or 'none'} | {result.expected} | "
                  f"{_yn(result.proposed == result.expected)} |",
                  _row("time-to-detect (assess)", result.detect_s, ASSESS_S),
                  _row("fix (the scenario's run)", result.fix_s, FIX_S),
                  _row("time-to-recover (verified)", result.recover_s, VERIFIED_S),
                  f"| host left as found | {_yn(result.left_as_found)} | y | {_yn(result.left_as_found)} |", ""]
        lines += [f"- {' '.join(line.split())}" for line in result.failures()]  # one line each
        lines += [f"- snapshot differs: {line}" for line in result.differences if line not in result.failures()]
        if result.failures():
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _row(name: str, seconds: float | None, target: int) -> str:
    within = seconds is not None and seconds <= target
    return f"| {name} | {_s(seconds)} | <= {target}s | {_yn(within)} |"


def svg_chart(results: list[DrillResult]) -> str:
    """Two bars per drill (detect, recover) on one seconds scale, with the targets as dashed lines."""
    bar_h, gap, left, width = 14, 14, 170, 420
    top = 30
    top_value = max([ASSESS_S, *[value for r in results for value in (r.detect_s, r.recover_s) if value]])
    scale = width / top_value
    height = top + len(results) * (2 * bar_h + gap) + 40
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 90}" height="{height}" '
             f'font-family="sans-serif" font-size="11">',
             '<title>Drill: time-to-detect and time-to-recover per failure</title>',
             f'<text x="{left}" y="16">seconds: detect (blue), recover (green); failed drills named in red</text>']
    y = top
    for result in results:
        label = html.escape(f"{result.drill}{'' if result.passed else ' (FAIL)'}")
        colour_of_label = "#000" if result.passed else "#c0392b"
        parts.append(f'<text x="{left - 6}" y="{y + bar_h + 3}" text-anchor="end" fill="{colour_of_label}">'
                     f'{label}</text>')
        for value, colour in ((result.detect_s, "#3b6fb6"), (result.recover_s, "#3a9a5b")):
            length = (value or 0) * scale
            parts.append(f'<rect x="{left}" y="{y}" width="{length:.1f}" height="{bar_h - 2}" fill="{colour}"/>')
            parts.append(f'<text x="{left + length + 4:.1f}" y="{y + bar_h - 3}">{_s(value)}</text>')
            y += bar_h
        y += gap
    for target, name in ((ASSESS_S, "assess"), (VERIFIED_S, "verified")):
        if target <= top_value:
            x = left + target * scale
            parts.append(f'<line x1="{x:.1f}" y1="{top - 4}" x2="{x:.1f}" y2="{y}" stroke="#555" '
                         f'stroke-dasharray="4 3"/>')
            parts.append(f'<text x="{x:.1f}" y="{y + 14}" text-anchor="middle">{name} {target}s</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def write(folder: Path, results: list[DrillResult], started: str) -> Path:
    """report.md and chart.svg in `folder`; returns the report's path."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "chart.svg").write_text(svg_chart(results), encoding="utf-8")
    report = folder / "report.md"
    report.write_text(markdown(results, started), encoding="utf-8")
    return report
