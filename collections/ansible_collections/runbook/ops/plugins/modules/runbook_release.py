#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, runbook contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Where the app is and where a rollback or deploy takes it; the host's release ledger; the tree's move.

The reads and rules live in module_utils/runbook_release_state.py, the ledger in
runbook_ledger.py, the snapshot and label override in runbook_snapshot.py, the run lock
in runbook_run_lock.py; this module runs one action.
"""

from __future__ import annotations

DOCUMENTATION = r"""
module: runbook_release
short_description: Probe the app's release state, take the run lock and move the tree, record a healthy release
description:
  - C(action=probe) only reads (and changes nothing) the work tree (HEAD, tracked files with local changes, recent
    commits), the release that runs (the commit label of the stack's running containers and whether the health URL
    answers 200), the release ledger (I(state_dir)/releases.jsonl), the target (a SHA, HEAD~N counted from the release
    that runs, a local tag (v1.2.3 or refs/tags/v1.2.3, resolved to its commit), a branch or tag looked up on the
    remote, last-good or the default), untracked files the target tracks,
    the compose files and the services that build, the host's clock and free space for a snapshot.
    It fails with one line when it refuses the target (RV(refused) names why), before anything changes.
  - C(action=probe_and_take) is the same probe and then, in the same round trip, when there is work to do and nothing
    is refused, takes the run lock (I(take_lock), only when no run held or took it while the probe read) and does
    C(action=move)'s work (I(move)). A rollback needs both in one round trip; splitting them would add one.
  - C(action=record) appends a release that passed the health gate to the ledger (a full commit SHA).
  - C(action=move) refuses a snapshot that would not fit, records the running release in the ledger
    (I(record_commit)), writes the snapshot, runs C(git reset --hard) to the target when HEAD is elsewhere, and writes
    the label override.
  - C(action=label) writes the compose override that labels the images a release builds with its commit, in the
    state dir; the app's own files are never touched.
author: runbook maintainers (@runbook)
version_added: 1.0.0
options:
  action:
    type: str
    choices: [probe, probe_and_take, record, move, label]
    default: probe
    description: What to do.
  repo_dir: {type: path, description: The app's git work tree (probe).}
  compose_dir: {type: path, description: The directory of the compose file (probe).}
  state_dir: {type: path, required: true, description: The contract's runbook_state_dir; the ledger is releases.jsonl in it.}
  target:
    type: str
    default: ''
    description: >-
      A 7-40 hex SHA (a commit only, never a branch or tag of that name), HEAD~N, last-good, a tag (v1.2.3 or
      refs/tags/v1.2.3; without I(remote), resolved on the host to its commit), or empty for the default:
      last-good when the ledger has one, else the newest earlier release (an ancestor of the one that runs) whose
      images of the compose project carry the commit I(label), else HEAD~1 (RV(target_note) says which and why).
  candidate: {type: str, default: '', description: 'A commit a branch or tag resolved to on the remote (deploy): given, no lookup.'}
  remote: {type: str, default: '', description: 'Deploy: the remote to look a branch or tag target up on (git ls-remote).'}
  health_url: {type: str, default: '', description: The app's health URL (probe).}
  health_timeout: {type: int, default: 3, description: Seconds the health request may take.}
  log_lines: {type: int, default: 10, description: How many recent commits to return.}
  label: {type: str, default: org.runbook.commit, description: The image label that carries the commit.}
  commit: {type: str, default: '', description: 'The commit to record (record: a full SHA) or the one that runs (move).'}
  scenario: {type: str, default: '', description: The scenario that records (record) or runs (probe).}
  keep: {type: int, default: 100, description: Ledger entries kept.}
  source: {type: str, default: passed the health gate, description: Why the release is recorded (record).}
  rolled_back_from:
    type: str
    default: ''
    description: >-
      The release a rollback moved away from (record): when the commit is its ancestor (needs repo_dir),
      it is never last-good again until redeployed.
  env_file: {type: path, description: The app's environment file (move).}
  to: {type: str, default: '', description: The target commit the work tree moves to (move).}
  snapshot: {type: bool, default: true, description: Snapshot before the tree moves (move).}
  record_commit: {type: str, default: '', description: 'A healthy running release to record in the ledger before anything moves (move).'}
  snapshot_keep: {type: int, default: 5, description: Snapshots kept (move).}
  path: {type: path, description: 'Where the label override is written (label; move when services are given).'}
  services: {type: list, elements: str, default: [], description: 'The services that build (label, move).'}
  lock_dir:
    type: path
    default: ''
    description: "The run lock's state directory (probe): RV(lock) then says whether a run held the lock while the probe read."
  target_pattern: {type: str, default: '', description: "A regular expression the whole target must match (probe)."}
  accepted: {type: str, default: 'a 7-40 hex commit SHA, a tag, HEAD~N or last-good', description: "What the refusals say is accepted."}
  take_lock:
    type: dict
    default: {}
    description: >-
      probe_and_take: with lock_dir, take the run lock (token, owner, scenario, idle, env_name as runbook_lock's) when
      there is work to do, nothing is refused, and no run held or took the lock while the probe read.
  move:
    type: bool
    default: false
    description: >-
      probe_and_take: when there is work to do and nothing is refused (and, with take_lock, the lock was taken),
      do action=move's work in the same round trip. A snapshot that would not fit is left to action=move.
attributes:
  check_mode: {support: full, description: 'probe reads; record, move and label report what they would do.'}
  diff_mode: {support: none, description: No diff is returned.}
  platform: {support: full, platforms: posix, description: A host with git and Docker compose.}
"""

EXAMPLES = r"""
- name: Find the release that runs now and the target's commit; take the run lock and move the tree
  runbook.ops.runbook_release:
    action: probe_and_take
    repo_dir: /srv/app
    compose_dir: /srv/app
    state_dir: /var/lib/runbook
    target: last-good
    lock_dir: /var/lib/runbook
    take_lock: {token: "{{ run_token }}", owner: ops@controller, scenario: Rollback}
    move: true
  register: probe

- name: Record the release in the host's ledger
  runbook.ops.runbook_release:
    action: record
    state_dir: /var/lib/runbook
    commit: "{{ probe.to }}"
    scenario: Rollback
"""

RETURN = r"""
lock: {description: 'probe: read (bool), held (a run held it while the probe read), seq, taken.', returned: probe, type: dict}
head: {description: The work tree's HEAD., returned: probe, type: str}
origin: {description: The release that runs (or ran last)., returned: probe, type: str}
origin_source: {description: How origin was found., returned: probe, type: str}
record_origin: {description: The running release is healthy and not the ledger's last., returned: probe, type: bool}
to: {description: The target commit (empty when unknown)., returned: probe, type: str}
target: {description: 'How the target was named (last-good, tag v1.2.3, HEAD~1 from a commit, ...).', returned: probe, type: str}
target_note: {description: 'Without a target and a last-good: which default was taken and why (else empty).', returned: probe, type: str}
at_target: {description: Nothing to do., returned: probe, type: bool}
refused: {description: Why the target is refused (names)., returned: probe, type: list, elements: str}
moved: {description: 'probe_and_take: the move made in the same round trip ({} when none).', returned: probe, type: dict}
recorded: {description: 'The ledger entry written, or null.', returned: 'record, move', type: dict}
path: {description: 'The snapshot (move) or the label override (label).', returned: 'move, label', type: str}
"""

import json
import re
import time
from concurrent.futures import ThreadPoolExecutor

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.runbook.ops.plugins.module_utils.runbook_command import Commands
from ansible_collections.runbook.ops.plugins.module_utils.runbook_endpoints import health_status
from ansible_collections.runbook.ops.plugins.module_utils.runbook_ledger import (
    append_ledger, is_full_sha, last_good, ledger_entries, record_release)
from ansible_collections.runbook.ops.plugins.module_utils.runbook_release_state import (
    SHA, collisions, compose_config, compose_containers, compose_files, dirty_files, free_bytes, git, image_releases,
    previous_release, recent_log, refusals, remote_candidate, rev, running_release, target_of, tree_bytes, where_from)
from ansible_collections.runbook.ops.plugins.module_utils.runbook_run_lock import lock_state, probe_lock, take_for_probe
from ansible_collections.runbook.ops.plugins.module_utils.runbook_snapshot import (
    HEADROOM, no_room_message, snapshot_fits, take_snapshot, write_label)

COMMANDS = Commands()


def probe(module):
    """Read where the release is and where it goes; fail (nothing changed) when the target is refused."""
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
        configured = pool.submit(compose_config, COMMANDS, compose_dir, files) if files else None
        listed = pool.submit(compose_containers, COMMANDS, p["label"])
        answered = pool.submit(health_status, p["health_url"], p["health_timeout"])
        # Deploy: a branch or tag is looked up on the remote (only reads; nothing is fetched here).
        looked_up, remote_error = False, ""
        if p["remote"] and p["target"] and not p["candidate"] and not SHA.match(p["target"]):
            looked_up = True
            p["candidate"], remote_error = remote_candidate(COMMANDS, repo, p["remote"], p["target"])
        head = rev(COMMANDS, repo, "HEAD")
        dirty = dirty_files(COMMANDS, repo)
        project, built = configured.result() if configured else ("", [])
        services, status = running_release(listed.result(), project), answered.result()
    entries = ledger_entries(state_dir)
    origin, origin_source = where_from(head, dirty, services, status, entries)
    # The running release is healthy but not yet the ledger's last: the caller
    # records it (action=record) once its checks pass, before anything moves.
    record_origin = status == 200 and bool(origin) and (not entries or entries[-1]["commit"] != origin)
    good = last_good(entries, origin)
    # No target and no earlier healthy release in the ledger (a host another CI job
    # deployed): the release before the running one is read from the image labels.
    previous = ""
    if not p["target"] and not good:
        previous = previous_release(COMMANDS, repo, origin, image_releases(COMMANDS, project, p["label"]))
    to, named, error, note = target_of(COMMANDS, p, origin, good, previous)
    log = recent_log(COMMANDS, repo, p["log_lines"])
    # Every service that builds runs with the target's commit label (a stack
    # started by hand carries none: the next release relabels it).
    labelled = bool(to) and all(services.get(name) == to for name in built)
    found = dict(
        lock=probe_lock(p["lock_dir"], lock_before),
        head=head, dirty=dirty, log=log,
        running={"services": services, "status": status, "healthy": status == 200},
        origin=origin, origin_source=origin_source, record_origin=record_origin,
        ledger=entries[-10:], last_good=good,
        to=to, target=named, target_error=error, target_note=note,
        candidate=p["candidate"], looked_up=looked_up, remote_error=remote_error,
        labelled=labelled,
        # Nothing to do: the tree is there, the running release is the target,
        # answers healthy and carries the target's label.
        at_target=labelled and head == to and origin == to and status == 200,
        collisions=collisions(COMMANDS, repo, head, to) if head else [],
        compose_files=files, build_services=built,
        now=time.time(), compose_bytes=tree_bytes(compose_dir), state_free_bytes=free_bytes(state_dir),
        # Deploy: the remote names a commit the host lacks; it is fetched under the lock.
        needs_fetch=bool(p["remote"]) and looked_up and bool(p["candidate"]) and not to,
    )
    refused = refusals(found, p)
    found["refused"] = [name for name, dummy in refused]
    found["moved"] = {}
    if refused:
        module.fail_json(msg=refused[0][1], **found)
    return found


def take_and_move(module, found):
    """probe_and_take: the run lock and the move, in the probe's round trip, when there is work to do."""
    p = module.params
    work = not found["at_target"]
    if work and p["take_lock"]:
        found["lock"] = take_for_probe(p["lock_dir"], found["lock"], p["take_lock"])
    if p["move"] and work and not found["needs_fetch"] and (found["lock"]["taken"] or not p["take_lock"]) \
            and (not p["snapshot"] or snapshot_fits(found["state_free_bytes"], found["compose_bytes"])):
        try:
            found["moved"] = move_now(module, found["origin"], found["to"],
                                      found["origin"] if found["record_origin"] else "", found["build_services"])
        except Exception as exc:  # pylint: disable=broad-except  # the lock may be held: report, never crash
            found["moved"] = dict(failed=True, msg="moving the tree failed: %s" % exc)
    return found


def move(module):
    """action=move: the runbook's "Backup current state" and "Revert code" in one round trip."""
    p = module.params
    if p["snapshot"]:
        needed, free = tree_bytes(p["compose_dir"]), free_bytes(p["state_dir"])
        if not snapshot_fits(free, needed):
            module.fail_json(msg=no_room_message(p["state_dir"], free, needed + HEADROOM))
    if module.check_mode:
        head = rev(COMMANDS, p["repo_dir"], "HEAD")
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
    moved = rev(COMMANDS, repo, "HEAD") != to
    recorded = None
    if record_commit:
        entries = ledger_entries(state_dir)
        if not entries or entries[-1]["commit"] != record_commit:
            recorded = append_ledger(state_dir, record_commit, p["scenario"], "healthy at the start of a run", p["keep"])
    path, pruned = ("", [])
    if p["snapshot"]:
        path, pruned = take_snapshot(compose_dir, p["env_file"] or "", state_dir, commit, p["snapshot_keep"])
    if moved:
        rc, out, err = git(COMMANDS, repo, "reset", "--hard", to)
        if rc != 0:
            return dict(failed=True, msg="git reset --hard %s failed in %s: %s" % (to, repo, (err or out).strip()),
                        changed=bool(path), path=path, recorded=recorded)
    if p["path"] and services:
        write_label(p["path"], compose_dir, services, p["label"], to)
    return dict(changed=bool(path) or moved, path=path, moved=moved, recorded=recorded, pruned=pruned, head=to)


def label(module):
    """The compose override naming the commit of the images each building service makes."""
    p = module.params
    if not module.check_mode:
        write_label(p["path"], p["compose_dir"], p["services"], p["label"], p["commit"])
    # Bookkeeping in the state dir, not host state: never a change.
    return dict(changed=False, path=p["path"])


def record(module):
    """action=record: append a release that passed the health gate (a full commit SHA) to the ledger."""
    p = module.params
    if not is_full_sha(p["commit"]):
        module.fail_json(msg="runbook_release: not a full commit SHA: %r" % p["commit"])
    if module.check_mode:
        return dict(changed=False, recorded=None)
    # Only a real step back in history marks the release it left: moving
    # "back" to a newer commit by SHA is a roll forward.
    repo = p["repo_dir"]
    is_ancestor = (lambda commit, left: git(COMMANDS, repo, "merge-base", "--is-ancestor", commit, left)[0] == 0) \
        if repo else None
    entry = record_release(p["state_dir"], p["commit"], p["scenario"], p["source"], p["keep"], p["rolled_back_from"],
                           is_ancestor)
    return dict(changed=False, recorded=entry)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            action=dict(type="str", choices=["probe", "probe_and_take", "record", "move", "label"], default="probe"),
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
            accepted=dict(type="str", default="a 7-40 hex commit SHA, a tag, HEAD~N or last-good"),
            take_lock=dict(type="dict", default={}),
            move=dict(type="bool", default=False),
        ),
        required_if=[("action", "probe", ("repo_dir", "compose_dir")),
                     ("action", "probe_and_take", ("repo_dir", "compose_dir")), ("action", "record", ("commit",)),
                     ("action", "move", ("compose_dir", "repo_dir", "commit", "to")),
                     ("action", "label", ("path", "commit"))],
        supports_check_mode=True,
    )
    COMMANDS.use(module)
    p = module.params
    if p["action"] == "record":
        module.exit_json(**record(module))
    if p["action"] == "move":
        if not (SHA.match(p["to"]) and SHA.match(p["commit"])):
            module.fail_json(msg="runbook_release: move needs commit and to as SHAs: %r, %r" % (p["commit"], p["to"]))
        module.exit_json(**move(module))
    if p["action"] == "label":
        module.exit_json(**label(module))
    if p["action"] == "probe" and (p["take_lock"] or p["move"]):
        module.fail_json(msg="runbook_release: action=probe only reads; take_lock and move need action=probe_and_take")
    found = probe(module)
    if p["action"] == "probe_and_take":
        found = take_and_move(module, found)
    # Reading changes nothing; a move made in the same round trip does.
    module.exit_json(changed=bool(found["moved"].get("changed")), **found)


if __name__ == "__main__":
    main()
