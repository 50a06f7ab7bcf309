#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The host's run lock: one runbook run per host at a time.

Everything is decided on the host, by the host's clock, so the controllers'
clocks and time zones never matter. One round trip to take the lock, one to
give it back.

Layout under state_dir:
  run.lock/            the lock (mkdir is atomic)
  run.lock/owner       JSON: token, owner (user@controller), scenario, started
  run.lock/heartbeat   touched every few seconds while the run is alive
  run.lock.guard       flock()ed around every check-and-change of run.lock

Liveness: when the lock is taken, a small detached heartbeat process starts
on the host. It touches run.lock/heartbeat while any process on the host
carries the run's token in its environment (the playbooks set
RUNBOOK_RUN_TOKEN for every task, so the module, `docker compose build` and
whatever they start carry it), and stops once no such process has been seen
for `idle` seconds, or when the lock no longer holds its token. A lock whose
heartbeat is older than `stale_after` is stale: the next run takes it over.
So a run whose controller died stops blocking others about idle + stale_after
seconds after its last process on the host ended.
"""

from __future__ import annotations

DOCUMENTATION = r"""
module: runbook_lock
short_description: Take or give back the host's runbook run lock
version_added: 0.2.0
author: runbook maintainers (!UNKNOWN)
description:
  - One runbook run per host at a time. With O(state=acquired) the module takes the lock, waiting up to
    O(wait) seconds for another run to give it back and taking over a lock whose heartbeat is older than
    O(stale_after). With O(state=released) it gives the lock back, only when it still holds O(token).
    With O(state=rebooting) it marks this run's lock so it does not go stale while the host reboots.
  - Every age is decided on the host's own clock, so the controllers' clocks and time zones never matter.
    One round trip takes the lock, one gives it back.
  - The lock is the directory C(run.lock) under O(state_dir). Its C(owner) file names the run (token, owner,
    scenario, start), and a small detached heartbeat process touches C(run.lock/heartbeat) while any process
    on the host carries the run's token in its environment variable O(env_name).
  - A run whose controller died stops blocking others about O(idle) + O(stale_after) seconds after its
    last process on the host ended.
  - The module always reports C(changed=false), so that taking and giving back the lock does not count as
    a change of the host.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: partial
    details: In check mode no lock is taken, given back or marked; the module returns C(held=false) without
      saying whether the lock could be taken.
  diff_mode:
    support: none
  platform:
    platforms: linux
    details: Finds the run's processes in C(/proc).
options:
  state_dir:
    description: Where the lock lives (the contract's C(runbook_state_dir)); created (mode 0700) when acquiring.
    type: path
    required: true
  state:
    description:
      - C(acquired) takes the lock, C(released) gives it back.
      - C(rebooting) marks this run's lock as rebooting, not stale for O(reboot_seconds).
    type: str
    choices: [acquired, released, rebooting]
    default: acquired
  token:
    description:
      - This run's token (hex). Acquiring without one makes one, returned as RV(token).
      - Releasing removes only a lock that holds this token.
    type: str
    default: ''
  owner:
    description: Who runs (C(user@controller)), shown to a run that has to wait.
    type: str
    default: ''
  scenario:
    description: The scenario that runs, shown to a run that has to wait.
    type: str
    default: ''
  wait:
    description: Seconds a second run waits for the lock before refusing.
    type: int
    default: 300
  stale_after:
    description: Seconds without a heartbeat after which a lock is stale.
    type: int
    default: 60
  idle:
    description: Seconds without any process of the run after which its heartbeat stops.
    type: int
    default: 300
  env_name:
    description: The environment variable that carries the run's token.
    type: str
    default: RUNBOOK_RUN_TOKEN
  heartbeat:
    description: Start the heartbeat process.
    type: bool
    default: true
  stale_only:
    description: With O(state=released) and no O(token), remove the lock only when it is stale.
    type: bool
    default: false
  leftovers_wait:
    description: On release, seconds to wait for the run's leftover processes before stopping them (TERM, then KILL).
    type: int
    default: 20
  remove_state_dir:
    description: On release, remove O(state_dir) when nothing else is left in it.
    type: bool
    default: false
  record:
    description:
      - With O(state=released), first append a release that passed the health gate to the host's release
        ledger, in the same round trip (the ledger entry is written before the lock is given back, also when
        the lock is no longer this run's). Omitted, no ledger entry.
      - The same entry as P(runbook.ops.runbook_release#module) with C(action=record) writes.
      - Not in check mode.
    type: dict
    suboptions:
      state_dir:
        description: The directory of the ledger (C(releases.jsonl)).
        type: path
        required: true
      commit:
        description: The release's full commit SHA.
        type: str
        required: true
      scenario:
        description: The scenario that records.
        type: str
        default: ""
      source:
        description: Why the release is recorded.
        type: str
        default: passed the health gate
      rolled_back_from:
        description: The release a rollback moved away from; kept only when O(record.commit) is its ancestor.
        type: str
        default: ""
      repo_dir:
        description: The app's git work tree, for the ancestor check.
        type: path
      keep:
        description: Ledger entries kept.
        type: int
        default: 100
  reboot_seconds:
    description:
      - With O(state=rebooting), seconds (host clock) the lock stays held without a heartbeat.
      - Taking the lock again with the same token clears the mark.
    type: int
    default: 900
"""

EXAMPLES = r"""
- name: Take the host's run lock (wait up to five minutes for another run)
  runbook.ops.runbook_lock:
    state_dir: /var/lib/runbook
    state: acquired
    token: "{{ runbook_lock_token | default('') }}"
    owner: "{{ lookup('env', 'USER') }}@{{ lookup('pipe', 'hostname') }}"
    scenario: disk_cleanup
    wait: 300
  register: runbook_lock_acquired

- name: Mark the lock as rebooting before rebooting the host
  runbook.ops.runbook_lock:
    state_dir: /var/lib/runbook
    state: rebooting
    token: "{{ runbook_lock_acquired.token }}"
    reboot_seconds: 900

- name: Give the run lock back
  runbook.ops.runbook_lock:
    state_dir: /var/lib/runbook
    state: released
    token: "{{ runbook_lock_acquired.token }}"
    remove_state_dir: "{{ runbook_lock_acquired.created_state_dir }}"
  when: runbook_lock_acquired.held

- name: Remove a stale lock left by a run that died
  runbook.ops.runbook_lock:
    state_dir: /var/lib/runbook
    state: released
    stale_only: true
"""

RETURN = r"""
held:
  description: True when this run holds the lock after the call.
  returned: always
  type: bool
  sample: true
token:
  description: The token the lock holds for this run, given or made on the host.
  returned: when O(state=acquired)
  type: str
  sample: 9f2c1e4a7b3d5f60
created_state_dir:
  description: True when acquiring created O(state_dir).
  returned: when O(state=acquired)
  type: bool
  sample: false
took_over:
  description: The stale lock's owner data, with C(heartbeat_age), when one was taken over; else null.
  returned: when O(state=acquired)
  type: dict
  sample: null
holder:
  description: The lock's owner data (C(token), C(owner), C(scenario), C(started)...) after the call; null when the lock is free.
  returned: always
  type: dict
  sample: {"token": "9f2c1e4a7b3d5f60", "owner": "ops@laptop", "scenario": "disk_cleanup", "started": "2026-12-06T12:00:00Z"}
released:
  description: True when the lock was removed.
  returned: when O(state=released)
  type: bool
  sample: true
stopped_processes:
  description: The pids of the run's leftover processes that were stopped on release.
  returned: when O(state=released) and the lock was given back
  type: list
  elements: int
  sample: []
seq:
  description:
    - The lock's sequence number. Each new holder adds one (C(run.lock.seq)), so a reader that saw the
      lock free at N knows nobody held it in between when it gets N+1.
  returned: when O(state=acquired) or O(state=rebooting)
  type: int
  sample: 42
recorded:
  description: The ledger entry O(record) wrote, or null (none asked, or the ledger's last already).
  returned: when O(state=released) and O(record) is given
  type: dict
msg:
  description: What the call did, in one sentence.
  returned: when O(state=released) or O(state=rebooting), and in check mode
  type: str
  sample: gave the lock back (ops@laptop, disk_cleanup, started 2026-12-06T12:00:00Z, token 9f2c1e4a7b3d5f60)
"""

import errno
import os
import pwd
import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.runbook.ops.plugins.module_utils.runbook_ledger import is_full_sha, record_release
from ansible_collections.runbook.ops.plugins.module_utils.runbook_run_lock import (
    GUARD, LOCK, SEQ, Guard, describe, heartbeat_age, heartbeat_alive, is_stale, new_token, read_owner,
    read_seq, remove_lock, start_heartbeat, take, write_owner)
from ansible_collections.runbook.ops.plugins.module_utils.runbook_run_processes import stop_heartbeat, stop_leftovers


def acquire(module: AnsibleModule) -> dict:
    p = module.params
    state_dir = p["state_dir"]
    created = not os.path.isdir(state_dir)
    if created:
        os.makedirs(state_dir, mode=0o700, exist_ok=True)
    lock = os.path.join(state_dir, LOCK)
    deadline = time.monotonic() + max(p["wait"], 0)
    took_over = None
    holder = None
    age = None
    while True:
        with Guard(state_dir):
            holder = read_owner(lock)
            age = heartbeat_age(lock) if holder is not None else None
            if holder is not None and holder.get("token") == p["token"]:
                # Taken again by the same run (after a reboot, say): its heartbeat
                # may be gone with the old processes; start it again, and the
                # reboot mark has done its work.
                if holder.pop("rebooting_until", None) is not None:
                    write_owner(lock, holder)
                if p["heartbeat"] and not heartbeat_alive(lock, p["token"]):
                    holder = dict(holder, heartbeat_pid=start_heartbeat(lock, p["token"], p["env_name"], p["idle"]))
                    write_owner(lock, holder)
                return dict(held=True, created_state_dir=False, took_over=None, holder=holder,
                            seq=read_seq(state_dir))
            if is_stale(holder, age, p["stale_after"]):
                took_over = dict(holder, heartbeat_age=int(age))
                remove_lock(lock)
                holder = None
            if holder is None:
                taken = take(state_dir, p["token"], p["owner"], p["scenario"], p["env_name"], p["idle"],
                             p["heartbeat"])
                return dict(held=True, created_state_dir=created, took_over=took_over, **taken)
        if time.monotonic() >= deadline:
            break
        time.sleep(1)
    module.fail_json(
        msg=("Refused: another runbook run holds the lock on this host (%s); waited %ss. "
             "A run that died stops blocking about %ss after its last process here ended; "
             "to free it now, if that run is really gone: runbook unlock-stale --token %s")
        % (describe(holder, age), p["wait"], p["idle"] + p["stale_after"], (holder or {}).get("token", "TOKEN")),
        held=False, holder=holder, created_state_dir=created)


def release(module: AnsibleModule) -> dict:
    p = module.params
    state_dir = p["state_dir"]
    lock = os.path.join(state_dir, LOCK)
    if not os.path.isdir(state_dir):
        return dict(held=False, released=False, holder=None, msg="no state directory: no lock to give back")
    holder = read_owner(lock)
    if holder is None:
        result = dict(held=False, released=False, holder=None, msg="no lock on this host")
    else:
        mine = bool(p["token"]) and holder.get("token") == p["token"]
        stale = is_stale(holder, heartbeat_age(lock), p["stale_after"])
        if not (mine or (p["stale_only"] and not p["token"] and stale)):
            why = "it is not this run's" if p["token"] else "it is not stale (its run may be alive)"
            return dict(held=False, released=False, holder=holder,
                        msg="left the lock alone, %s: %s" % (why, describe(holder, heartbeat_age(lock))))
        stopped = stop_leftovers(p["env_name"], p["token"], p["leftovers_wait"]) if mine else []
        with Guard(state_dir):
            now_holder = read_owner(lock)
            if now_holder is not None and now_holder.get("token") == holder.get("token"):
                stop_heartbeat(lock)
                remove_lock(lock)
        result = dict(held=False, released=True, holder=holder, stopped_processes=stopped,
                      msg="gave the lock back (%s)" % describe(holder))
    if p["remove_state_dir"]:
        try:
            if set(os.listdir(state_dir)) <= {GUARD, SEQ}:
                for name in (GUARD, SEQ):
                    if os.path.exists(os.path.join(state_dir, name)):
                        os.remove(os.path.join(state_dir, name))
            os.rmdir(state_dir)
        except OSError as exc:
            if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOENT):
                raise
    return result


def record(module: AnsibleModule, spec: dict) -> dict | None:
    """The release ledger's entry for a release that passed the health gate (before the lock goes back).
    Raises ValueError or OSError when it cannot be written: the caller gives the lock back all the same."""
    if not is_full_sha(spec["commit"]):
        raise ValueError("record needs a full commit SHA: %r" % spec["commit"])
    repo = spec["repo_dir"]
    git = module.get_bin_path("git")

    def is_ancestor(commit: str, left: str) -> bool:
        return module.run_command([git, "-C", repo, "merge-base", "--is-ancestor", commit, left])[0] == 0

    return record_release(spec["state_dir"], spec["commit"], spec["scenario"], spec["source"], spec["keep"],
                          spec["rolled_back_from"], is_ancestor if repo and git else None)


def mark_rebooting(module: AnsibleModule) -> dict:
    """Mark this run's lock as rebooting for `reboot_seconds` (host clock): not stale until then."""
    p = module.params
    lock = os.path.join(p["state_dir"], LOCK)
    if not os.path.isdir(p["state_dir"]):
        module.fail_json(msg="No run lock under %s to mark as rebooting: refusing to reboot without it." % p["state_dir"])
    with Guard(p["state_dir"]):
        holder = read_owner(lock)
        if holder is None or holder.get("token") != p["token"] or not p["token"]:
            module.fail_json(msg="The run lock is not this run's (%s): refusing to reboot without holding it."
                             % describe(holder), held=False, holder=holder)
        holder = dict(holder, rebooting_until=int(time.time()) + max(p["reboot_seconds"], 0))
        write_owner(lock, holder)
    return dict(held=True, holder=holder, seq=read_seq(p["state_dir"]),
                msg="run lock marked rebooting: %s" % describe(holder))


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            state_dir=dict(type="path", required=True),
            state=dict(type="str", choices=["acquired", "released", "rebooting"], default="acquired"),
            token=dict(type="str", default="", no_log=False),
            owner=dict(type="str", default=""),
            scenario=dict(type="str", default=""),
            wait=dict(type="int", default=300),
            stale_after=dict(type="int", default=60),
            idle=dict(type="int", default=300),
            env_name=dict(type="str", default="RUNBOOK_RUN_TOKEN"),
            heartbeat=dict(type="bool", default=True),
            stale_only=dict(type="bool", default=False),
            leftovers_wait=dict(type="int", default=20),
            remove_state_dir=dict(type="bool", default=False),
            reboot_seconds=dict(type="int", default=900),
            record=dict(type="dict", options=dict(
                state_dir=dict(type="path", required=True),
                commit=dict(type="str", required=True),
                scenario=dict(type="str", default=""),
                source=dict(type="str", default="passed the health gate"),
                rolled_back_from=dict(type="str", default=""),
                repo_dir=dict(type="path"),
                keep=dict(type="int", default=100),
            )),
        ),
        supports_check_mode=True,
    )
    if module.check_mode:
        module.exit_json(changed=False, held=False, created_state_dir=False, took_over=None, holder=None,
                         token=module.params["token"], msg="check mode: no lock taken or given back")
    try:
        act(module)
    except PermissionError as exc:
        module.fail_json(msg="Cannot write the run lock under %s as %s (%s): log in as root or add become (-b)."
                         % (module.params["state_dir"], pwd.getpwuid(os.geteuid()).pw_name, exc.strerror))


def act(module: AnsibleModule) -> None:
    """Take or give back the lock, as the module's parameters say, and exit."""
    if module.params["state"] == "acquired":
        if not module.params["token"]:
            # A direct ansible-playbook run: the token is made here, on the host.
            module.params["token"] = new_token()
        result = acquire(module)
        result["token"] = module.params["token"]
        if result.get("took_over"):
            gone = result["took_over"]
            module.warn("Took over a stale lock (no heartbeat for %ss): %s" % (gone.get("heartbeat_age"), describe(gone)))
    elif module.params["state"] == "rebooting":
        result = mark_rebooting(module)
    else:
        recorded, problem = None, ""
        if module.params["record"]:
            try:
                recorded = record(module, module.params["record"])
            except (OSError, ValueError) as exc:
                problem = "runbook_lock: the release ledger was not written (%s); the run lock was given back" % exc
        # The lock goes back whatever became of the ledger entry: a full disk must not leave the host locked.
        result = release(module)
        if module.params["record"]:
            result["recorded"] = recorded
        if problem:
            result["msg"] = "%s: %s" % (problem, result["msg"]) if result.get("msg") else problem
            module.fail_json(**result)
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
