# SPDX-License-Identifier: GPL-3.0-or-later
"""The README's table of contents lists every section, and every scenario is in the symptom table."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def anchor(title: str) -> str:
    """GitHub's anchor of a heading."""
    return re.sub(r"[^\w\- ]", "", title.strip().lower()).replace(" ", "-")


def headings() -> list[str]:
    body = re.sub(r"```.*?```", "", README, flags=re.S)
    return [line.split(" ", 1)[1] for line in body.splitlines()
            if line.startswith(("## ", "### ")) and line != "## Contents"]


def test_the_contents_list_every_section_with_its_anchor() -> None:
    contents = README.split("## Contents\n", 1)[1].split("\n## ", 1)[0]
    listed = re.findall(r"\[([^\]]+)\]\(#([^)]+)\)", contents)
    assert [title for title, _ in listed] == headings()
    assert all(link == anchor(title) for title, link in listed)


def test_every_scenario_is_reachable_from_a_symptom() -> None:
    table = README.split("## At 3 a.m.: which scenario\n", 1)[1].split("\n## ", 1)[0]
    named = set(re.findall(r"`runbook run ([a-z]+)", table))
    scenarios = {path.stem for path in (ROOT / "playbooks").glob("*.yml")} - {"unlock", "prevention"}
    assert scenarios <= named, scenarios - named
