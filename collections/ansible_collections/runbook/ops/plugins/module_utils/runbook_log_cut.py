# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Cutting a log to its tail in place (same inode), and archiving that tail first as evidence
(gzip, 0600, fsynced, with an index.json): runbook_disk action=logs."""

from __future__ import annotations

import errno
import gzip
import hashlib
import json
import os

from ansible_collections.runbook.ops.plugins.module_utils.runbook_disk_rules import CHUNK, tail_start

# Errors that mean "no room for the evidence archive".
NO_ROOM = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


class NoRoom(Exception):
    """The evidence archive of a log did not fit."""


def read_at_fd(fd):
    return lambda offset, n: os.pread(fd, n, offset)


def keep_tail(path, keep):
    """Cut a log down to its last `keep` bytes (whole lines), in place: the
    same inode, so a process that has it open (O_APPEND) keeps writing to it.
    What was appended while the tail moved is moved too; what is written in
    the instant between the last check and the truncation is lost (as with
    logrotate's copytruncate). Returns the size left."""
    fd = os.open(path, os.O_RDWR)
    try:
        size = os.fstat(fd).st_size
        src = tail_start(read_at_fd(fd), size, keep)
        if src == 0:
            return size
        dst = 0
        while True:
            end = os.fstat(fd).st_size
            while src < end:
                chunk = os.pread(fd, min(CHUNK, end - src), src)
                if not chunk:
                    break
                os.pwrite(fd, chunk, dst)
                src += len(chunk)
                dst += len(chunk)
            if os.fstat(fd).st_size <= end:
                break
        os.ftruncate(fd, dst)
        return dst
    finally:
        os.close(fd)


def private_dir(path):
    """A directory only root reads (0700 whatever the umask), made when missing."""
    try:
        os.makedirs(path, mode=0o700, exist_ok=True)
        os.chmod(path, 0o700)
    except OSError as exc:
        if exc.errno in NO_ROOM:
            raise NoRoom(str(exc)) from exc
        raise


def fsync_dir(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def archive_tail(path, size, archive_bytes, dest):
    """Write the last `archive_bytes` (whole lines) of a log, as it is up to
    `size`, gzip-compressed to dest (0600, fsynced). Raises NoRoom when the file
    system is full (nothing is left behind). Returns what was archived."""
    partial = dest + ".partial"
    digest = hashlib.sha256()
    with open(path, "rb") as source:
        fd_in = source.fileno()
        start = tail_start(read_at_fd(fd_in), size, archive_bytes)
        try:
            os.makedirs(os.path.dirname(dest), mode=0o700, exist_ok=True)
            out = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(out, "wb") as raw:
                with gzip.GzipFile(filename=os.path.basename(path), mode="wb", fileobj=raw, compresslevel=6) as packed:
                    pos = start
                    while pos < size:
                        chunk = os.pread(fd_in, min(CHUNK, size - pos), pos)
                        if not chunk:
                            break
                        packed.write(chunk)
                        digest.update(chunk)
                        pos += len(chunk)
                raw.flush()
                os.fsync(raw.fileno())
            os.replace(partial, dest)
            fsync_dir(os.path.dirname(dest))
        except OSError as exc:
            try:
                os.remove(partial)
            except OSError:
                pass
            if exc.errno in NO_ROOM:
                raise NoRoom(str(exc)) from exc
            raise
    stat = os.stat(path)
    return {"log": path, "inode": stat.st_ino, "size": size, "from": start, "bytes": pos - start,
            "sha256": digest.hexdigest(), "archive": dest, "compressed": os.path.getsize(dest)}


def write_index(folder, entries):
    """index.json of the evidence folder: which log, which bytes, their sha256, the archive."""
    path = os.path.join(folder, "index.json")
    try:
        with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w", encoding="utf-8") as f:
            json.dump(entries, f, indent=2)
            f.write("\n")
    except OSError as exc:
        if exc.errno in NO_ROOM:
            raise NoRoom(str(exc)) from exc
        raise
