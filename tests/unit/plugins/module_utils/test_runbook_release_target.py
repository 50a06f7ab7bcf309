# SPDX-License-Identifier: GPL-3.0-or-later
"""module_utils/runbook_release_state: how a rollback's target is named and resolved, against a real
git repository (tags, SHAs that are also tag names, the default from image labels, HEAD~1 said plainly)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from ansible_collections.runbook.ops.plugins.module_utils.runbook_command import Commands
from ansible_collections.runbook.ops.plugins.module_utils.runbook_release_state import (
    TAG_NAME, parse_image_releases, previous_release, sortable_time, tag_name, target_of)

ROOT = Path(__file__).resolve().parents[4]
COMMANDS = Commands()


def playbook_pattern() -> str:
    play = yaml.safe_load((ROOT / "playbooks" / "rollback.yml").read_text())[0]
    return play["vars"]["runbook_scenario"]["extra_vars"]["commit"]["pattern"]


def git(repo: Path, *args: str) -> str:
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t",
           "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(repo), "PATH": "/usr/bin:/bin"}
    return subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture(name="repo")
def fixture_repo(tmp_path: Path) -> dict[str, str]:
    """v1 <- v2 <- v3 (HEAD), v2 an annotated tag; a tag named like a short SHA of v1 that points at v3."""
    repo = tmp_path / "app"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    shas = {}
    for version in ("v1", "v2", "v3"):
        (repo / "release").write_text(version)
        git(repo, "add", "release")
        git(repo, "commit", "-q", "-m", version)
        shas[version] = git(repo, "rev-parse", "HEAD")
    git(repo, "tag", "v1", shas["v1"])
    git(repo, "tag", "-a", "-m", "release 2", "v2", shas["v2"])
    git(repo, "tag", "release/3", shas["v3"])
    git(repo, "tag", shas["v1"][:8], shas["v3"])  # a tag whose name is v1's short SHA
    return dict(shas, repo=str(repo))


def target(repo: dict[str, str], name: str, good: str = "", previous: str = "", remote: str = "") -> tuple:
    params = {"repo_dir": repo["repo"], "target": name, "candidate": "", "remote": remote, "label": "org.runbook.commit",
              "accepted": "a SHA, a tag, HEAD~N or last-good"}
    return target_of(COMMANDS, params, repo["v3"], good, previous)


@pytest.mark.parametrize("name", ["v1.2.3", "refs/tags/v1.2.3", "release/2026-12", "v1.2.3-rc.1", "refs/tags/abc1234"])
def test_the_pattern_accepts_tags(name):
    assert re.fullmatch(playbook_pattern(), name)


@pytest.mark.parametrize("name", ["-v1", "--upload-pack=touch x", "v1..2", "v1.lock", "a.lock/b", "a/.b", "v1/", "v1.",
                                  "refs/heads/main", "refs/tags/-x", "refs/tags/refs/x", "a@{1}", "a//b", "{{ x }}",
                                  "v 1", "v1~1", "v1^{}", "a:b", "refs/tags/", "x" * 101, ".v1", "HEAD~"])
def test_the_pattern_refuses_what_git_would_not_take_as_a_tag(name):
    assert not re.fullmatch(playbook_pattern(), name)
    assert tag_name(name) == ""


def test_the_module_names_the_tag_as_the_pattern_does():
    assert tag_name("v1.2.3") == tag_name("refs/tags/v1.2.3") == "v1.2.3"
    assert tag_name("refs/tags/abc1234") == "abc1234"
    for not_a_tag in ("abc1234", "HEAD~2", "last-good", ""):
        assert tag_name(not_a_tag) == ""
    assert TAG_NAME.match("release/3") and not TAG_NAME.match("-x")


def test_a_tag_resolves_to_its_full_commit(repo):
    assert target(repo, "v1")[:3] == (repo["v1"], "tag v1", "")
    assert target(repo, "refs/tags/v2")[:3] == (repo["v2"], "tag v2", "")  # annotated: the commit, not the tag object
    assert target(repo, "release/3")[0] == repo["v3"]


def test_an_unknown_tag_is_refused_in_one_line(repo):
    to, dummy, error, dummy = target(repo, "v9")
    assert to == "" and error.startswith("no tag v9 pointing at a commit in ") and "\n" not in error
    assert error.endswith("; give a SHA, a tag, HEAD~N or last-good that exists")
    assert "(a commit SHA has 7 to 40 hex digits)" in target(repo, "abc12")[2]


def test_a_short_sha_that_is_also_a_tag_name_is_refused_not_guessed(repo):
    # git rev-parse would take the tag (v3); the rollback refuses and says how to name either.
    to, dummy, error, dummy = target(repo, repo["v1"][:8])
    assert to == "" and "full 40-hex SHA" in error and "refs/tags/" + repo["v1"][:8] in error
    assert target(repo, repo["v1"])[0] == repo["v1"]  # the full SHA is the commit
    assert target(repo, "refs/tags/" + repo["v1"][:8])[0] == repo["v3"]  # the tag, named as a tag
    assert target(repo, repo["v2"][:10])[:3] == (repo["v2"], repo["v2"][:10], "")


def test_without_a_target_the_ledger_then_the_image_labels_then_head_1_said_plainly(repo):
    assert target(repo, "", good=repo["v1"])[:2] == (repo["v1"], "last-good")
    to, named, dummy, note = target(repo, "", previous=repo["v1"])
    assert (to, named) == (repo["v1"], "previous release (image label org.runbook.commit)")
    assert note.startswith("No commit given and the host's ledger has no earlier healthy release: taking " + repo["v1"][:12])
    to, named, dummy, note = target(repo, "")
    assert to == repo["v2"] and named.startswith("HEAD~1")
    assert "taking HEAD~1" in note
    assert "the ledger has no earlier healthy release and no image carries an earlier commit label" in note
    assert target(repo, "HEAD~1")[3] == ""  # asked for: nothing to explain


def test_the_previous_release_is_the_newest_labelled_ancestor_of_the_running_one(repo):
    git(Path(repo["repo"]), "checkout", "-q", "-b", "side", repo["v1"])
    (Path(repo["repo"]) / "side").write_text("x")
    git(Path(repo["repo"]), "add", "side")
    git(Path(repo["repo"]), "commit", "-q", "-m", "side")
    side = git(Path(repo["repo"]), "rev-parse", "HEAD")
    unknown = "f" * 40
    # newest first: the running one, a commit not here, one on another branch, then the ancestors
    labels = [repo["v3"], unknown, side, repo["v2"], repo["v1"]]
    assert previous_release(COMMANDS, repo["repo"], repo["v3"], labels) == repo["v2"]
    assert previous_release(COMMANDS, repo["repo"], repo["v3"], [repo["v3"], side]) == ""
    assert previous_release(COMMANDS, repo["repo"], "", labels) == ""


def test_image_labels_newest_first_each_commit_once():
    a, b = "a" * 40, "b" * 40
    text = "\n".join([
        "2026-12-06T15:34:58.76598962Z\t%s" % a,
        "2026-12-06T15:35:08.840796709Z\t%s" % b,
        "2026-12-06T15:34:58.9Z\t%s" % a,
        "2026-12-06T15:36:00Z\t<no value>",
        "2026-12-06T15:37:00Z\t--upload-pack=x",
    ])
    assert parse_image_releases(text) == [b, a]
    assert sortable_time("2026-12-06T15:34:58.9Z") > sortable_time("2026-12-06T15:34:58.76598962Z")
