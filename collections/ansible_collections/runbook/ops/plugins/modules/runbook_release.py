#!/usr/bin/python
# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Where the app is and where a rollback or deploy takes it, in one round trip.

action=probe reads (and changes nothing in the app):
  - the work tree: HEAD, tracked files with local changes, recent commits;
  - the release that runs: the commit label (org.runbook.commit) of the
    stack's running containers and whether the health URL answers 200;
  - the release ledger (<state_dir>/releases.jsonl): the releases that passed
    the health gate on this host;
  - the target: a SHA, HEAD~N (counted from the release that runs), a branch
    or tag looked up on the remote (deploy: git ls-remote, nothing fetched),
    last-good (the last healthy release before the one that runs) or the
    default (last-good when the ledger has one, else HEAD~1);
  - untracked or ignored files (a live .env) that the target commit tracks,
    which `git reset --hard` would overwrite or delete;
  - the compose files and the services that build, for the commit label, and
    whether each of them runs with the target's label (labelled);
  - the host's clock, free space for a snapshot.
  "The release that ran before" (from) is the commit of the running
  containers when they answer healthy, else the last release of the ledger,
  never plain HEAD unless nothing else is known. When the running release is
  healthy and the ledger does not end with it, record_origin says so: the
  caller records it (action=record) once its checks pass and before anything
  moves, so a rerun after any interrupt still knows it.
  It fails with one line when it refuses the target (its form, an unknown
  ref or commit, local changes, live configuration the target would
  overwrite, ...; `refused` names them), before anything changes. When
  there is work to do, the same round trip can take
  the run lock (take_lock, only when no run held it while the probe read:
  module_utils/runbook_run_lock.py) and do action=move's work (move). When it
  refuses, it neither takes the lock nor changes anything.

action=record appends a release that passed the health gate to the ledger.

action=move is the runbook's "Backup current state" and "Revert code" in one
round trip: refuses, before anything changes, a snapshot that would not fit;
records the running release in the ledger (record_commit); writes
<state_dir>/snapshots/<host UTC time>-<commit>/ (folders 0700, files 0600:
<compose dir name>.tar.gz with its .env, COMMIT, and env when the environment
file lives outside the compose directory) and keeps the last `snapshot_keep`;
runs `git reset --hard` to the target when HEAD is elsewhere; and writes the
label override (path, services) for the target.

action=label writes the compose override that labels the images a release
builds with its commit (org.runbook.commit), in the state dir; the app's own
files are never touched.
"""

from __future__ import annotations

DOCUMENTATION = r"""
module: runbook_release
short_description: Probe the app's release state, or record a healthy release in the host's ledger
options:
  action: {type: str, choices: [probe, record, move, label], default: probe, description: What to do.}
  repo_dir: {type: path, description: The app's git work tree (probe).}
  compose_dir: {type: path, description: The directory of the compose file (probe).}
  state_dir: {type: path, required: true, description: The contract's runbook_state_dir; the ledger is releases.jsonl in it.}
  target: {type: str, default: '', description: 'A 7-40 hex SHA, HEAD~N, last-good, or empty for the default.'}
  candidate: {type: str, default: '', description: 'A commit a branch or tag resolved to on the remote (deploy): given, no lookup.'}
  remote: {type: str, default: '', description: 'Deploy: the remote to look a branch or tag target up on (git ls-remote), when no candidate is given.'}
  health_url: {type: str, default: '', description: The app's health URL (probe).}
  health_timeout: {type: int, default: 3, description: Seconds the health request may take.}
  log_lines: {type: int, default: 10, description: How many recent commits to return.}
  label: {type: str, default: org.runbook.commit, description: The image label that carries the commit.}
  commit: {type: str, default: '', description: The commit to record (record).}
  scenario: {type: str, default: '', description: The scenario that records (record) or runs (probe).}
  keep: {type: int, default: 100, description: Ledger entries kept.}
  source: {type: str, default: passed the health gate, description: Why the release is recorded (record).}
  rolled_back_from: {type: str, default: '', description: 'The release a rollback moved away from (record): when the commit is its ancestor (needs repo_dir), it is never last-good again until redeployed.'}
  env_file: {type: path, description: The app's environment file (move).}
  to: {type: str, default: '', description: The target commit the work tree moves to (move).}
  snapshot: {type: bool, default: true, description: Snapshot before the tree moves (move).}
  record_commit: {type: str, default: '', description: 'A healthy running release to record in the ledger before anything moves (move).'}
  snapshot_keep: {type: int, default: 5, description: Snapshots kept (move).}
  path: {type: path, description: Where the label override is written (label; move when services are given).}
  services: {type: list, elements: str, default: [], description: The services that build (label, move).}
  lock_dir: {type: path, default: '', description: "Probe: the run lock's state directory; when given, RV(lock) says whether a run held the lock while the probe read, and the lock's sequence number (see runbook_lock)."}
  target_pattern: {type: str, default: '', description: "Probe: a regular expression the whole target must match; checked before any command sees it."}
  accepted: {type: str, default: 'a 7-40 hex commit SHA, HEAD~N or last-good', description: "Probe: what the refusals say is accepted."}
  take_lock: {type: dict, default: {}, description: "Probe: with lock_dir, take the run lock in the same round trip (token, owner, scenario, idle, env_name as runbook_lock's) when there is work to do, nothing is refused, and no run held or took the lock while the probe read; RV(lock.taken) says so."}
  move: {type: bool, default: false, description: "Probe: when there is work to do and nothing is refused (and, with take_lock, the lock was taken), do action=move's work in the same round trip (env_file, snapshot, snapshot_keep, path, label, scenario); RV(moved) is its result. A snapshot that would not fit is left to action=move, which refuses it."}
"""

import json
import os
import re
import shutil
import subprocess
import tarfile
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.runbook.ops.plugins.module_utils.runbook_run_lock import lock_state, new_token, take_if_untouched

LEDGER = "releases.jsonl"
COMPOSE_NAMES = ("compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml")
OVERRIDE_NAMES = ("compose.override.yaml", "compose.override.yml",
                  "docker-compose.override.yaml", "docker-compose.override.yml")
SHA = re.compile(r"^[0-9a-fA-F]{7,40}$")
RELATIVE = re.compile(r"^HEAD~([0-9]+)$")


def run(argv, cwd=None):
    """(rc, stdout, stderr) of a command; arguments are passed as a list, never through a shell."""
    try:
        proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return 127, "", str(exc)
    return proc.returncode, proc.stdout, proc.stderr


def git(repo, *args):
    return run(["git", *args], cwd=repo)


def rev(repo, name):
    """The commit a name resolves to in the work tree, or ''."""
    if not name:
        return ""
    rc, out, _ = git(repo, "rev-parse", "--verify", "--quiet", name + "^{commit}")
    return out.strip() if rc == 0 else ""


def read_ledger(state_dir):
    entries = []
    try:
        with open(os.path.join(state_dir, LEDGER)) as f:
            for line in f:
                try:
                    entry = json.loads(line)
                except ValueError:
                    continue
                if isinstance(entry, dict) and SHA.match(str(entry.get("commit", ""))):
                    entries.append(entry)
    except OSError:
        pass
    return entries


def append_ledger(state_dir, commit, scenario, source, keep, rolled_back_from=""):
    """Append one release (host clock); keep the last `keep` entries. Atomic replace."""
    os.makedirs(state_dir, mode=0o700, exist_ok=True)
    entries = read_ledger(state_dir)
    entry = {"commit": commit, "time": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
             "epoch": int(time.time()), "scenario": scenario, "source": source}
    if rolled_back_from:
        entry["rolled_back_from"] = rolled_back_from
    entries = (entries + [entry])[-keep:]
    path = os.path.join(state_dir, LEDGER)
    temporary = path + ".tmp"
    with open(temporary, "w") as f:
        for item in entries:
            f.write(json.dumps(item, sort_keys=True) + "\n")
    os.chmod(temporary, 0o600)
    os.replace(temporary, path)
    return entry


LABEL_KEY = re.compile(r"^[A-Za-z0-9._/-]+$")


def compose_containers(label):
    """[(project, service, one-off, commit label)] of the running compose containers: one
    `docker ps`, read side by side with `docker compose config` (which names the project)."""
    if not LABEL_KEY.match(label):
        return []
    fields = ("com.docker.compose.project", "com.docker.compose.service", "com.docker.compose.oneoff", label)
    rc, out, _ = run(["docker", "ps", "--no-trunc", "--filter", "label=com.docker.compose.project",
                      "--format", "\t".join('{{.Label "%s"}}' % key for key in fields)])
    if rc != 0:
        return []
    return [tuple(line.split("\t")) for line in out.splitlines() if line.count("\t") == len(fields) - 1]


def running_release(containers, project):
    """{service: commit label} of the project's running containers (as `docker compose ps` lists them)."""
    return {service: commit for name, service, oneoff, commit in containers
            if project and name == project and oneoff != "True"}


def health(url, timeout):
    if not url:
        return 0
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except Exception:  # refused, timed out, reset: the app does not answer
        return -1


def compose_files(compose_dir):
    main = [name for name in COMPOSE_NAMES if os.path.isfile(os.path.join(compose_dir, name))][:1]
    override = [name for name in OVERRIDE_NAMES if os.path.isfile(os.path.join(compose_dir, name))][:1]
    return main + override if main else []


def compose_config(compose_dir, files):
    """(project name, services that build) from `docker compose config`; ('', []) when it cannot be read."""
    argv = ["docker", "compose"]
    for name in files:
        argv += ["-f", name]
    rc, out, _ = run(argv + ["config", "--format", "json"], cwd=compose_dir)
    if rc != 0:
        return "", []
    try:
        config = json.loads(out)
    except ValueError:
        return "", []
    services = config.get("services") or {}
    return (str(config.get("name") or ""),
            sorted(name for name, spec in services.items() if isinstance(spec, dict) and spec.get("build")))


def collisions(repo, head, to):
    """Untracked or ignored files in the tree that the target commit tracks (git reset --hard would clobber them)."""
    if not to or to == head:
        return []
    rc, out, _ = git(repo, "ls-files", "--others", "-z")
    present = set(out.split("\0")) - {""} if rc == 0 else set()
    if not present:
        return []
    rc, out, _ = git(repo, "ls-tree", "-r", "--name-only", "-z", to)
    tracked = set(out.split("\0")) - {""} if rc == 0 else set()
    return sorted(present & tracked)


def tree_bytes(path):
    total = 0
    for root, _dirs, files in os.walk(path):
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


def last_good(entries, current):
    """The last healthy release in the ledger that is not the one that runs, nor one
    that a later rollback moved away from (two rollbacks never roll forward again)."""
    excluded = {current}
    for entry in reversed(entries):
        if entry["commit"] not in excluded:
            return entry["commit"]
        if entry.get("rolled_back_from"):
            excluded.add(entry["rolled_back_from"])
    return ""


def where_from(p, head, dirty, services, status, entries):
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


def target_of(p, origin, good):
    """(commit or '', how the target was named, error or '')."""
    repo, target = p["repo_dir"], p["target"] or ("last-good" if good else "HEAD~1")
    if target == "last-good":
        if not good:
            return "", target, ("no earlier healthy release is recorded on this host; "
                                "give commit=<sha> or commit=HEAD~N")
        return rev(repo, good) or good, "last-good", ""
    relative = RELATIVE.match(target)
    if relative:
        return rev(repo, "%s~%s" % (origin, relative.group(1))), "%s from %s" % (target, origin[:12]), ""
    return rev(repo, p["candidate"] or target), target, ""


def remote_candidate(repo, remote, target):
    """(commit, error): what the remote names `target` (a branch first, then a tag's commit, then a tag)."""
    rc, out, err = git(repo, "ls-remote", remote, "refs/heads/%s" % target, "refs/tags/%s" % target,
                       "refs/tags/%s^{}" % target)
    if rc != 0:
        return "", ((err or out).strip().splitlines() or ["no output"])[-1]
    refs = {}
    for line in out.splitlines():
        commit, _, ref = line.partition("\t")
        refs[ref.strip()] = commit.strip()
    for ref in ("refs/heads/%s" % target, "refs/tags/%s^{}" % target, "refs/tags/%s" % target):
        if SHA.match(refs.get(ref, "")):
            return refs[ref], ""
    return "", ""


def probe(module):
    p = module.params
    repo, compose_dir, state_dir = p["repo_dir"], p["compose_dir"], p["state_dir"]
    # Before any command sees the target.
    if p["target"] and p["target_pattern"] and not re.fullmatch(p["target_pattern"], p["target"]):
        module.fail_json(msg="Refused target %s: give %s." % (json.dumps(p["target"]), p["accepted"]), refused=["malformed"])
    # Read before and after everything else: the probe describes a moment with
    # no run holding the lock only when both reads agree and neither saw it held.
    lock_before = lock_state(p["lock_dir"]) if p["lock_dir"] else None
    # The slow reads (the compose project, the running containers, the health
    # request) run side by side, while git answers.
    files = compose_files(compose_dir)
    with ThreadPoolExecutor(max_workers=3) as pool:
        configured = pool.submit(compose_config, compose_dir, files) if files else None
        listed = pool.submit(compose_containers, p["label"])
        answered = pool.submit(health, p["health_url"], p["health_timeout"])
        # Deploy: a branch or tag is looked up on the remote (only reads; nothing is fetched here).
        looked_up, remote_error = False, ""
        if p["remote"] and p["target"] and not p["candidate"] and not SHA.match(p["target"]):
            looked_up = True
            p["candidate"], remote_error = remote_candidate(repo, p["remote"], p["target"])
        head = rev(repo, "HEAD")
        rc, out, _ = git(repo, "status", "--porcelain", "--untracked-files=no")
        dirty = [line.strip() for line in out.splitlines() if line.strip()] if rc == 0 else []
        project, built = configured.result() if configured else ("", [])
        services, status = running_release(listed.result(), project), answered.result()
    entries = read_ledger(state_dir)
    origin, origin_source = where_from(p, head, dirty, services, status, entries)
    # The running release is healthy but not yet the ledger's last: the caller
    # records it (action=record) once its checks pass, before anything moves.
    record_origin = status == 200 and bool(origin) and (not entries or entries[-1]["commit"] != origin)
    good = last_good(entries, origin)
    to, named, error = target_of(p, origin, good)
    rc, out, _ = git(repo, "log", "--oneline", "--decorate", "-n", str(p["log_lines"]))
    # Every service that builds runs with the target's commit label (a stack
    # started by hand carries none: the next release relabels it).
    labelled = bool(to) and all(services.get(name) == to for name in built)
    lock = {"read": False, "held": True, "seq": -1, "taken": False}
    if lock_before is not None:
        lock_after = lock_state(p["lock_dir"])
        lock = {"read": True, "held": lock_before[0] or lock_after != lock_before, "seq": lock_after[1], "taken": False}
    found = dict(
        lock=lock,
        head=head, dirty=dirty, log=out.splitlines() if rc == 0 else [],
        running={"services": services, "status": status, "healthy": status == 200},
        origin=origin, origin_source=origin_source, record_origin=record_origin,
        ledger=entries[-10:], last_good=good,
        to=to, target=named, target_error=error,
        candidate=p["candidate"], looked_up=looked_up, remote_error=remote_error,
        labelled=labelled,
        # Nothing to do: the tree is there, the running release is the target,
        # answers healthy and carries the target's label.
        at_target=labelled and head == to and origin == to and status == 200,
        collisions=collisions(repo, head, to) if head else [],
        compose_files=files, build_services=built,
        now=time.time(), compose_bytes=tree_bytes(compose_dir), state_free_bytes=free_bytes(state_dir),
        # Deploy: the remote names a commit the host lacks; it is fetched under the lock.
        needs_fetch=bool(p["remote"]) and looked_up and bool(p["candidate"]) and not to,
    )
    refused = refusals(found, p)
    found["refused"] = [name for name, _message in refused]
    found["moved"] = {}
    if refused:
        module.fail_json(msg=refused[0][1], **found)
    work = not found["at_target"]
    if work and p["take_lock"] and lock["read"] and not lock["held"]:
        taken = take_lock(p["lock_dir"], lock["seq"], p["take_lock"])
        if taken:
            found["lock"] = {**lock, **taken, "taken": True}
    if p["move"] and work and not found["needs_fetch"] and (found["lock"]["taken"] or not p["take_lock"]) \
            and (not p["snapshot"] or snapshot_fits(found)):
        try:
            found["moved"] = move_now(module, origin, to, origin if record_origin else "", built)
        except Exception as exc:  # the lock may be held: report, never crash; the caller's move step retries
            found["moved"] = dict(failed=True, msg="moving the tree failed: %s" % exc)
    return found


# What the probe refuses, in the order a person would check: the first is the
# one-line message the module fails with. Nothing has changed.
def refusals(found, p):
    """[(name, message)] of what refuses the target; empty when the release may go ahead."""
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


def take_lock(lock_dir, seen_seq, spec):
    """The run lock, taken in the probe's round trip when nobody took it since the probe read it;
    None otherwise, also when it cannot be written here (runbook_lock's own step then says why)."""
    token = spec.get("token") or new_token()
    try:
        return take_if_untouched(lock_dir, seen_seq, token, spec.get("owner", ""), spec.get("scenario", ""),
                                 spec.get("env_name") or "RUNBOOK_RUN_TOKEN", int(spec.get("idle", 300)))
    except OSError:
        return None


def snapshot_fits(found):
    free = found["state_free_bytes"]
    return free < 0 or free > found["compose_bytes"] + HEADROOM


SNAPSHOT_NAME = re.compile(r"^[0-9]{8}T[0-9]{6}Z-[0-9a-f]+$")
HEADROOM = 10 * 1048576  # plan for the uncompressed size plus 10 MB


def private_dir(path):
    """Create path and any missing parents with mode 0700."""
    missing = []
    while path and not os.path.isdir(path):
        missing.append(path)
        path = os.path.dirname(path)
    for folder in reversed(missing):
        os.mkdir(folder, 0o700)


def write_private(path, data):
    """Write bytes to a new 0600 file, atomically."""
    temporary = path + ".tmp"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(temporary, path)


def prune_snapshots(root, keep):
    """Remove the oldest snapshots beyond `keep` (names sort by time)."""
    names = sorted(name for name in os.listdir(root) if SNAPSHOT_NAME.match(name))
    removed = names[:max(len(names) - keep, 0)]
    for name in removed:
        shutil.rmtree(os.path.join(root, name))
    return [os.path.join(root, name) for name in removed]


def check_room(module, compose_dir, state_dir):
    """Refuse, before anything changes, a snapshot that would not fit."""
    needed = tree_bytes(compose_dir) + HEADROOM
    free = free_bytes(state_dir)
    if 0 <= free <= needed:
        module.fail_json(msg=(
            "Not enough free space for the snapshot under %s (%.1f MB free, about %.1f MB needed); "
            "free some space (runbook section 5) or run again with -e snapshot=false. Nothing was changed."
            % (state_dir, free / 1048576.0, needed / 1048576.0)))


def take_snapshot(compose_dir, env_file, state_dir, commit, keep):
    """<state_dir>/snapshots/<host UTC time>-<commit>/: the compose dir with its .env, COMMIT, env."""
    root = os.path.join(state_dir, "snapshots")
    path = os.path.join(root, "%s-%s" % (time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()), commit[:12]))
    private_dir(path)
    name = os.path.basename(compose_dir.rstrip("/"))
    archive = os.path.join(path, name + ".tar.gz")
    fd = os.open(archive + ".tmp", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
        tar.add(compose_dir, arcname=name)
    os.replace(archive + ".tmp", archive)
    if env_file and os.path.exists(env_file) and not env_file.startswith(compose_dir.rstrip("/") + "/"):
        with open(env_file, "rb") as f:
            write_private(os.path.join(path, "env"), f.read())
    write_private(os.path.join(path, "COMMIT"), (commit + "\n").encode())
    return path, prune_snapshots(root, max(keep, 1))


def move(module):
    """action=move: the runbook's "Backup current state" and "Revert code" in one round trip."""
    p = module.params
    if p["snapshot"]:
        check_room(module, p["compose_dir"], p["state_dir"])
    if module.check_mode:
        head = rev(p["repo_dir"], "HEAD")
        return dict(changed=p["snapshot"] or head != p["to"], path="", moved=head != p["to"], recorded=None,
                    pruned=[], head=head)
    done = move_now(module, p["commit"], p["to"], p["record_commit"], p["services"])
    if done.get("failed"):
        module.fail_json(**done)
    return done


def move_now(module, commit, to, record_commit, services):
    """Record the running release, snapshot, `git reset --hard` to the target, label its images.
    A failed reset is returned (failed, msg), not raised: the probe may hold the run lock."""
    p = module.params
    compose_dir, state_dir, repo = p["compose_dir"], p["state_dir"], p["repo_dir"]
    moved = rev(repo, "HEAD") != to
    recorded = None
    if record_commit:
        entries = read_ledger(state_dir)
        if not entries or entries[-1]["commit"] != record_commit:
            recorded = append_ledger(state_dir, record_commit, p["scenario"], "healthy at the start of a run", p["keep"])
    path, pruned = ("", [])
    if p["snapshot"]:
        path, pruned = take_snapshot(compose_dir, p["env_file"] or "", state_dir, commit, p["snapshot_keep"])
    if moved:
        rc, out, err = git(repo, "reset", "--hard", to)
        if rc != 0:
            return dict(failed=True, msg="git reset --hard %s failed in %s: %s" % (to, repo, (err or out).strip()),
                        changed=bool(path), path=path, recorded=recorded)
    if p["path"] and services:
        write_label(p["path"], compose_dir, services, p["label"], to)
    return dict(changed=bool(path) or moved, path=path, moved=moved, recorded=recorded, pruned=pruned, head=to)


def label_data(compose_dir, services, key, commit):
    override = {"services": {service: {"build": {"labels": {key: commit}}} for service in services}}
    return ("# Written by runbook: the commit the images of %s are built from.\n%s\n"
            % (compose_dir or "the app", json.dumps(override, indent=2, sort_keys=True))).encode()


def write_label(path, compose_dir, services, key, commit):
    """Write the label override unless it already says this; True when written."""
    data = label_data(compose_dir, services, key, commit)
    try:
        with open(path, "rb") as f:
            if f.read() == data:
                return False
    except OSError:
        pass
    private_dir(os.path.dirname(path))
    write_private(path, data)
    return True


def label(module):
    """The compose override naming the commit of the images each building service makes."""
    p = module.params
    if not module.check_mode:
        write_label(p["path"], p["compose_dir"], p["services"], p["label"], p["commit"])
    # Bookkeeping in the state dir, not host state: never a change.
    return dict(changed=False, path=p["path"])


def main():
    module = AnsibleModule(
        argument_spec=dict(
            action=dict(type="str", choices=["probe", "record", "move", "label"], default="probe"),
            repo_dir=dict(type="path"),
            compose_dir=dict(type="path"),
            state_dir=dict(type="path", required=True),
            target=dict(type="str", default=""),
            candidate=dict(type="str", default=""),
            remote=dict(type="str", default=""),
            health_url=dict(type="str", default=""),
            health_timeout=dict(type="int", default=3),
            log_lines=dict(type="int", default=10),
            label=dict(type="str", default="org.runbook.commit"),
            commit=dict(type="str", default=""),
            scenario=dict(type="str", default=""),
            keep=dict(type="int", default=100),
            source=dict(type="str", default="passed the health gate"),
            rolled_back_from=dict(type="str", default=""),
            env_file=dict(type="path"),
            to=dict(type="str", default=""),
            snapshot=dict(type="bool", default=True),
            record_commit=dict(type="str", default=""),
            snapshot_keep=dict(type="int", default=5),
            path=dict(type="path"),
            services=dict(type="list", elements="str", default=[]),
            lock_dir=dict(type="path", default=""),
            target_pattern=dict(type="str", default=""),
            accepted=dict(type="str", default="a 7-40 hex commit SHA, HEAD~N or last-good"),
            take_lock=dict(type="dict", default={}),
            move=dict(type="bool", default=False),
        ),
        required_if=[("action", "probe", ("repo_dir", "compose_dir")), ("action", "record", ("commit",)),
                     ("action", "move", ("compose_dir", "repo_dir", "commit", "to")),
                     ("action", "label", ("path", "commit"))],
        supports_check_mode=True,
    )
    p = module.params
    if p["action"] == "record":
        if not SHA.match(p["commit"]):
            module.fail_json(msg="runbook_release: not a commit: %r" % p["commit"])
        entries = read_ledger(p["state_dir"])
        if module.check_mode or (entries and entries[-1]["commit"] == p["commit"]):
            module.exit_json(changed=False, recorded=None)
        # Only a real step back in history marks the release it left: moving
        # "back" to a newer commit by SHA is a roll forward.
        left = p["rolled_back_from"]
        if left and p["repo_dir"] and git(p["repo_dir"], "merge-base", "--is-ancestor", p["commit"], left)[0] != 0:
            left = ""
        entry = append_ledger(p["state_dir"], p["commit"], p["scenario"], p["source"], p["keep"], left)
        module.exit_json(changed=False, recorded=entry)
    if p["action"] == "move":
        if not (SHA.match(p["to"]) and SHA.match(p["commit"])):
            module.fail_json(msg="runbook_release: move needs commit and to as SHAs: %r, %r" % (p["commit"], p["to"]))
        module.exit_json(**move(module))
    if p["action"] == "label":
        module.exit_json(**label(module))
    found = probe(module)
    # Reading changes nothing; a move made in the same round trip does.
    module.exit_json(changed=bool(found["moved"].get("changed")), **found)


if __name__ == "__main__":
    main()
