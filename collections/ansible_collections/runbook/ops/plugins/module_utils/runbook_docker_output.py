# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Docker's answers (`docker compose ps`, `docker inspect`, `docker system df`) as data: pure functions."""

from __future__ import annotations

import json

from ansible_collections.runbook.ops.plugins.module_utils.runbook_times import docker_epoch, iso


def parse_compose_ps(text):
    """Containers of `docker compose ps --all --format json`: one JSON object a line (compose >= 2.21) or one array."""
    text = text.strip()
    if not text:
        return []
    if text.startswith("["):
        items = json.loads(text)
    else:
        items = [json.loads(line) for line in text.splitlines() if line.strip()]
    return [{"id": item.get("ID", ""), "name": item.get("Name", ""), "service": item.get("Service", "")}
            for item in items]


def parse_inspect(text):
    """Container rows of `docker inspect ID...`: name, state, since, restarts, health, exit code, service (the compose
    service's name) and oom_killed (Docker saw the kernel's OOM killer end it; cleared when it starts again)."""
    rows = []
    for item in json.loads(text or "[]"):
        state = item.get("State") or {}
        status = state.get("Status", "unknown")
        if status in ("running", "paused", "restarting"):
            since = docker_epoch(state.get("StartedAt"))
        else:
            since = docker_epoch(state.get("FinishedAt")) or docker_epoch(item.get("Created"))
        labels = (item.get("Config") or {}).get("Labels") or {}
        rows.append({
            "name": item.get("Name", "").lstrip("/"),
            "service": labels.get("com.docker.compose.service", ""),
            "id": item.get("Id", ""),
            "state": status,
            "exit_code": state.get("ExitCode"),
            "since": iso(since),
            "since_epoch": since,
            "restarts": item.get("RestartCount", 0),
            "health": (state.get("Health") or {}).get("Status") or "none",
            "oom_killed": bool(state.get("OOMKilled")),
        })
    return sorted(rows, key=lambda row: row["name"])


def parse_system_df(text):
    """Rows of `docker system df --format '{{json .}}'`: type, count, active, size, reclaimable (as Docker shows them)."""
    rows = []
    for line in text.splitlines():
        if not line.strip():
            continue
        item = json.loads(line)
        rows.append({"type": item.get("Type", ""), "count": int(item.get("TotalCount") or 0),
                     "active": int(item.get("Active") or 0), "size": item.get("Size", ""),
                     "reclaimable": item.get("Reclaimable", "")})
    return rows
