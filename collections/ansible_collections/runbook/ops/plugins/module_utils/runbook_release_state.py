# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""What runbook_release's probe reads: the work tree (git), the compose project and its running
release (docker), the remote's refs; and the rules that name the release that runs, the target,
and what refuses it. Readers take a runbook_command.Commands; the rules are pure functions.
"""

from __future__ import annotations

import json
import os
import re
import shutil

from ansible_collections.runbook.ops.plugins.module_utils.runbook_ledger import is_full_sha

COMPOSE_NAMES = ("compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml")
OVERRIDE_NAMES = ("compose.override.yaml", "compose.override.yml",
                  "docker-compose.override.yaml", "docker-compose.override.yml")
# A commit as a person names it (target, candidate): 7 to 40 hex digits.
SHA = re.compile(r"^[0-9a-fA-F]{7,40}$")
RELATIVE = re.compile(r"^HEAD~([0-9]+)$")
# A tag as a rollback names it, v1.2.3 or refs/tags/v1.2.3: git check-ref-format's rules
# that matter here, in a stricter alphabet (letters, digits, . _ / -); never a leading
# "-" (no option reaches git), no "..", "//", "@{", component starting with "." or
# ending in ".lock", no trailing "/" or ".". A name of 7-40 hex digits is a SHA: its
# tag is named refs/tags/NAME.
TAG_REF = "refs/tags/"
TAG_NAME = re.compile(r"^(?!refs/|.*(?:\.\.|//|/\.|\.lock(?:/|$)|[/.]$))[A-Za-z0-9][A-Za-z0-9._/-]{0,99}$")
IMAGE_CANDIDATES = 20
LABEL_KEY = re.compile(r"^[A-Za-z0-9._/-]+$")
PROJECT_FIELDS = ("com.docker.compose.project", "com.docker.compose.service", "com.docker.compose.oneoff")


def git(commands, repo, *args):
    return commands.run(["git"] + list(args), cwd=repo, timeout=60)


def rev(commands, repo, name):
    """The commit a name resolves to in the work tree, or ''."""
    if not name:
        return ""
    rc, out, dummy = git(commands, repo, "rev-parse", "--verify", "--quiet", name + "^{commit}")
    return out.strip() if rc == 0 else ""


def tag_name(target):
    """The tag a target names (v1.2.3, refs/tags/v1.2.3), or '' (a SHA, HEAD~N, last-good, empty, malformed)."""
    if target.startswith(TAG_REF):
        name = target[len(TAG_REF):]
    elif not target or target.startswith("refs/") or SHA.match(target) or RELATIVE.match(target) or target == "last-good":
        return ""
    else:
        name = target
    return name if TAG_NAME.match(name) else ""


def commit_of(commands, repo, name):
    """(commit, error) of a hex name taken as a commit only: git prefers a branch or tag of the same
    name over a short SHA, so a commit that does not start with the name is refused, not taken."""
    found = rev(commands, repo, name)
    if found and not found.lower().startswith(name.lower()):
        return "", ("%s is also the name of a branch or tag here (it resolves to %s); give the full 40-hex SHA, "
                    "or refs/tags/%s for the tag" % (name, found[:12], name))
    return found, ""


def dirty_files(commands, repo):
    """Tracked files with local changes (git status --porcelain lines)."""
    rc, out, dummy = git(commands, repo, "status", "--porcelain", "--untracked-files=no")
    return [line.strip() for line in out.splitlines() if line.strip()] if rc == 0 else []


def recent_log(commands, repo, count):
    rc, out, dummy = git(commands, repo, "log", "--oneline", "--decorate", "-n", str(count))
    return out.splitlines() if rc == 0 else []


def parse_labels(text, fields):
    """Rows of `docker ps --format` with one tab-separated value per field."""
    return [tuple(line.split("\t")) for line in text.splitlines() if line.count("\t") == len(fields) - 1]


def compose_containers(commands, label):
    """[(project, service, one-off, commit label)] of the running compose containers: one
    `docker ps`, read side by side with `docker compose config` (which names the project)."""
    if not LABEL_KEY.match(label):
        return []
    fields = PROJECT_FIELDS + (label,)
    rc, out, dummy = commands.run(["docker", "ps", "--no-trunc", "--filter", "label=com.docker.compose.project",
                                   "--format", "\t".join('{{.Label "%s"}}' % key for key in fields)], timeout=60)
    return parse_labels(out, fields) if rc == 0 else []


def running_release(containers, project):
    """{service: commit label} of the project's running containers (as `docker compose ps` lists them)."""
    return {service: commit for name, service, oneoff, commit in containers
            if project and name == project and oneoff != "True"}


def sortable_time(created):
    """Docker's RFC 3339 time (2026-12-06T15:35:08.8407967Z) as a string that sorts as the time does."""
    stamp, dummy, rest = created.strip().partition(".")
    digits = re.match(r"[0-9]*", rest).group(0)
    return stamp[:19] + "." + digits.ljust(9, "0")


def parse_image_releases(text):
    """Commits (full SHAs) of `docker image inspect` lines "created<TAB>label", newest image first, each once."""
    newest = {}
    for line in text.splitlines():
        created, dummy, commit = line.partition("\t")
        commit = commit.strip().lower()
        if is_full_sha(commit):
            newest[commit] = max(newest.get(commit, ""), sortable_time(created))
    return [commit for commit, dummy in sorted(newest.items(), key=lambda item: (item[1], item[0]), reverse=True)]


def image_releases(commands, project, label):
    """The commits the compose project's images carry in the commit label, newest first (images a
    release built here: compose labels them with the project, compose_deploy with the commit)."""
    if not project or not LABEL_KEY.match(label):
        return []
    rc, out, dummy = commands.run(["docker", "image", "ls", "--quiet", "--no-trunc",
                                   "--filter", "label=com.docker.compose.project=%s" % project,
                                   "--filter", "label=%s" % label], timeout=60)
    ids = sorted(set(out.split())) if rc == 0 else []
    if not ids:
        return []
    rc, out, dummy = commands.run(["docker", "image", "inspect", "--format",
                                   '{{.Created}}\t{{index .Config.Labels "%s"}}' % label] + ids, timeout=60)
    return parse_image_releases(out) if rc == 0 else []


def previous_release(commands, repo, origin, commits):
    """The newest of commits (image labels, newest first) that is a commit here, not origin, and an
    ancestor of origin (the release before it, never a newer one); '' when none is."""
    if not origin:
        return ""
    for commit in commits[:IMAGE_CANDIDATES]:
        if commit == origin.lower():
            continue
        found = rev(commands, repo, commit)
        if found and found != origin and git(commands, repo, "merge-base", "--is-ancestor", found, origin)[0] == 0:
            return found
    return ""


def compose_files(compose_dir):
    main = [name for name in COMPOSE_NAMES if os.path.isfile(os.path.join(compose_dir, name))][:1]
    override = [name for name in OVERRIDE_NAMES if os.path.isfile(os.path.join(compose_dir, name))][:1]
    return main + override if main else []


def parse_compose_config(text):
    """(project name, services that build) of `docker compose config --format json`; ('', []) when not JSON."""
    try:
        config = json.loads(text)
    except ValueError:
        return "", []
    services = config.get("services") or {}
    return (str(config.get("name") or ""),
            sorted(name for name, spec in services.items() if isinstance(spec, dict) and spec.get("build")))


def compose_config(commands, compose_dir, files):
    """(project name, services that build) from `docker compose config`; ('', []) when it cannot be read."""
    argv = ["docker", "compose"]
    for name in files:
        argv += ["-f", name]
    rc, out, dummy = commands.run(argv + ["config", "--format", "json"], cwd=compose_dir, timeout=60)
    return parse_compose_config(out) if rc == 0 else ("", [])


def collisions(commands, repo, head, to):
    """Untracked or ignored files in the tree that the target commit tracks (git reset --hard would clobber them)."""
    if not to or to == head:
        return []
    rc, out, dummy = git(commands, repo, "ls-files", "--others", "-z")
    present = set(out.split("\0")) - {""} if rc == 0 else set()
    if not present:
        return []
    rc, out, dummy = git(commands, repo, "ls-tree", "-r", "--name-only", "-z", to)
    tracked = set(out.split("\0")) - {""} if rc == 0 else set()
    return sorted(present & tracked)


def parse_ls_remote(text, target):
    """The commit `git ls-remote` names for target: a branch first, then a tag's commit, then a tag; '' when none."""
    refs = {}
    for line in text.splitlines():
        commit, dummy, ref = line.partition("\t")
        refs[ref.strip()] = commit.strip()
    for ref in ("refs/heads/%s" % target, "refs/tags/%s^{}" % target, "refs/tags/%s" % target):
        if SHA.match(refs.get(ref, "")):
            return refs[ref]
    return ""


def remote_candidate(commands, repo, remote, target):
    """(commit, error): what the remote names `target`."""
    rc, out, err = git(commands, repo, "ls-remote", remote, "refs/heads/%s" % target, "refs/tags/%s" % target,
                       "refs/tags/%s^{}" % target)
    if rc != 0:
        return "", ((err or out).strip().splitlines() or ["no output"])[-1]
    return parse_ls_remote(out, target), ""


def tree_bytes(path):
    total = 0
    for root, dummy, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                continue
    return total


def free_bytes(path):
    while path and not os.path.isdir(path):
        path = os.path.dirname(path)
    try:
        return shutil.disk_usage(path or "/").free
    except OSError:
        return -1


def where_from(head, dirty, services, status, entries):
    """(commit, how it was found) of the release that runs now, or ran last when it is down."""
    commits = set(services.values())
    healthy = status == 200
    if healthy and len(commits) == 1 and SHA.match(next(iter(commits))):
        return next(iter(commits)), "running containers (healthy)"
    if healthy and commits == {""} and head and not dirty:
        return head, "work tree HEAD (healthy; its containers carry no release label)"
    if entries:
        return entries[-1]["commit"], "release ledger (the app does not answer healthy now)"
    return head, "work tree HEAD (the app is not healthy and no release is recorded)"


def target_of(commands, p, origin, good, previous=""):
    """(commit or '', how the target was named, error or '', note or ''). An empty target is
    last-good (the ledger), else previous (the newest earlier release an image label names), else
    HEAD~1; the note says which and why when it is not the ledger's."""
    repo, target = p["repo_dir"], p["target"]
    if not target and not good and previous:
        return previous, "previous release (image label %s)" % p["label"], "", (
            "No commit given and the host's ledger has no earlier healthy release: taking %s, the newest earlier "
            "release whose images carry the label %s." % (previous[:12], p["label"]))
    note = ""
    if not target and not good:
        note = ("No commit given: taking HEAD~1 of %s, because the ledger has no earlier healthy release and no image "
                "carries an earlier commit label (%s); give commit=<sha>, a tag or HEAD~N to choose."
                % (origin[:12] or "HEAD", p["label"]))
    target = target or ("last-good" if good else "HEAD~1")
    if target == "last-good":
        if not good:
            return "", target, ("no earlier healthy release is recorded on this host; "
                                "give commit=<sha>, a tag or commit=HEAD~N"), ""
        return rev(commands, repo, good) or good, "last-good", "", ""
    relative = RELATIVE.match(target)
    if relative:
        return rev(commands, repo, "%s~%s" % (origin, relative.group(1))), "%s from %s" % (target, origin[:12]), "", note
    if p["candidate"]:
        return rev(commands, repo, p["candidate"]), target, "", ""
    if SHA.match(target):
        found, error = commit_of(commands, repo, target)
        return found, target, error, ""
    tag = tag_name(target)
    if tag and not p["remote"]:
        found = rev(commands, repo, TAG_REF + tag)
        if not found:
            hint = " (a commit SHA has 7 to 40 hex digits)" if re.match(r"^[0-9a-fA-F]+$", tag) else ""
            return "", target, ("no tag %s pointing at a commit in %s%s (git tag --list shows the tags); give %s that exists"
                                % (tag, repo, hint, p["accepted"])), ""
        return found, "tag %s" % tag, "", ""
    if not p["remote"]:
        return "", target, "not a commit SHA, a tag, HEAD~N or last-good", ""
    return rev(commands, repo, target), target, "", ""


def refusals(found, p):
    """[(name, message)] of what refuses the target, in the order a person would check (the first is
    the one-line message the module fails with; nothing has changed); empty when the release may go ahead."""
    target, repo, remote = json.dumps(p["target"]), p["repo_dir"], p["remote"]
    checks = (
        ("remote_error", bool(found["remote_error"]),
         "Cannot read the remote %s of %s (git ls-remote: %s); nothing was changed." % (remote, repo, found["remote_error"])),
        ("no_such_ref", found["looked_up"] and not found["candidate"],
         "Refused target %s: no such branch or tag on %s; give %s that exists." % (target, remote, p["accepted"])),
        ("no_work_tree", not found["head"],
         "Cannot read the git work tree at %s (git rev-parse HEAD failed); set app_repo_dir to the app's clone." % repo),
        ("target_error", bool(found["target_error"]), "Refused target %s: %s." % (target, found["target_error"])),
        ("dirty", bool(found["dirty"]),
         "Refused: the work tree %s has local changes to tracked files (%s); commit, stash or discard them, then run again."
         % (repo, ", ".join(found["dirty"][:5]))),
        ("no_such_commit", not found["to"] and not found["needs_fetch"],
         "Refused target %s: no such commit in %s%s; give %s that exists."
         % (target, repo, " or on " + remote if remote else "", p["accepted"])),
        ("collisions", bool(found["collisions"]),
         "Refused target %s: it tracks %s, which exist here untracked (live configuration such as .env); git reset --hard "
         "would overwrite them. Move them aside by hand or pick another commit; nothing was changed."
         % (found["to"][:12], ", ".join(found["collisions"][:5]))),
    )
    return [(name, message) for name, refused, message in checks if refused]
