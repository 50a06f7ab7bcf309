# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""runbook_release's snapshot before a tree moves, and the label override of a release's images.

<state_dir>/snapshots/<host UTC time>-<commit>/ (folders 0700, files 0600): <compose dir
name>.tar.gz with its .env, COMMIT, and env when the environment file lives outside the
compose directory; the last `keep` stay.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tarfile
import time

SNAPSHOT_NAME = re.compile(r"^[0-9]{8}T[0-9]{6}Z-[0-9a-f]+$")
HEADROOM = 10 * 1048576  # plan for the uncompressed size plus 10 MB


def snapshot_fits(free, needed_bytes):
    """Room for a snapshot of needed_bytes (uncompressed) when free bytes are known (free < 0: unknown)."""
    return free < 0 or free > needed_bytes + HEADROOM


def no_room_message(state_dir, free, needed):
    return ("Not enough free space for the snapshot under %s (%.1f MB free, about %.1f MB needed); "
            "free some space (runbook section 5) or run again with -e snapshot=false. Nothing was changed."
            % (state_dir, free / 1048576.0, needed / 1048576.0))


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
