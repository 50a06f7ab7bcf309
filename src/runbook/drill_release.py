# SPDX-License-Identifier: GPL-3.0-or-later
"""The broken-release drill's steps on the controller.

inject: drill.yml checks that the inventory names runbook_drill_broken_ref and keeps
the release the work tree is on; the ref is checked as `runbook run deploy -e ref=`
checks it (deploy.yml's own pattern); then the project's own playbooks/deploy.yml deploys
that ref, as CI would (the release passes its health gate: a release that fails
it is restored by the deploy itself and is no drill); then the host is read until
the release breaks (health no longer 200).
undo: playbooks/rollback.yml back to the release kept (a no-op when triage's
rollback already put it back), then drill.yml removes the stash.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from pathlib import Path

from runbook.catalog import load_catalog
from runbook.drill_host import DRILL_PLAYBOOK, Call, Host
from runbook.errors import BadInput
from runbook.validate import check_extra_vars

INJECTION = "broken_release"
DEPLOY = Path("playbooks") / "deploy.yml"
ROLLBACK = Path("playbooks") / "rollback.yml"
BREAK_WITHIN_S = 180  # a drill release breaks this soon after its deploy, or it is no broken release
POLL_S = 3.0


def inject(host: Host, before: dict[str, str]) -> Call:
    """Deploy the drill's ref and wait until it breaks; `before` gets the release to come back to."""
    folder = Path(tempfile.mkdtemp(prefix="runbook-drill-release-"))
    out = folder / "release.json"
    try:
        kept = host.playbook(DRILL_PLAYBOOK, 120, drill_action="inject", drill_injection=INJECTION,
                             drill_out=str(out))
        if kept.exit_code != 0:
            return kept
        try:
            found = json.loads(out.read_text(encoding="utf-8"))
            ref, release = str(found["ref"]), str(found["before"])
        except (OSError, ValueError, KeyError, TypeError):
            return _failed(kept, "the drill could not read which ref to deploy and which release runs")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    try:
        check_extra_vars(load_catalog(host.project).get(DEPLOY.stem), {"ref": ref})
    except BadInput as refused:
        return _failed(kept, f"runbook_drill_broken_ref: {refused}")
    before["release"] = release
    deployed = host.playbook(DEPLOY, 900, ref=ref)
    if deployed.exit_code != 0:
        return _failed(deployed, f"the deploy of {ref} did not pass its health gate (exit {deployed.exit_code}): "
                                 f"{deployed.reason}; runbook_drill_broken_ref must name a release that "
                                 f"answers healthy at first")
    return _until_broken(host, ref, deployed)


def _until_broken(host: Host, ref: str, deployed: Call) -> Call:
    start = time.monotonic()
    while True:
        reading = host.read()
        health = reading.get("probe", {}).get("health") if reading else None
        if reading and health != 200:
            return Call(0, deployed.stdout, deployed.stderr, deployed.seconds + time.monotonic() - start)
        if time.monotonic() - start >= BREAK_WITHIN_S:
            return _failed(deployed, f"{ref} still answers healthy {BREAK_WITHIN_S}s after its deploy: "
                                     f"runbook_drill_broken_ref must name a release that fails soon after its start")
        time.sleep(POLL_S)


def undo(host: Host, before: dict[str, str]) -> Call:
    """Back to the release kept by inject (when it got that far), then the stash goes."""
    release = before.get("release", "")
    if release:
        back = host.playbook(ROLLBACK, 900, commit=release)
        if back.exit_code != 0:
            return _failed(back, f"the rollback to {release[:12]}, the release before the drill, failed "
                                 f"(exit {back.exit_code}): {back.reason}")
    return host.playbook(DRILL_PLAYBOOK, 600, drill_action="undo", drill_injection=INJECTION)


def _failed(call: Call, why: str) -> Call:
    """The call's output, failed, with why as its reason."""
    return Call(call.exit_code or 1, call.stdout, call.stderr, call.seconds, why)
