# SPDX-License-Identifier: GPL-3.0-or-later
"""The disk_cleanup role's module (runbook_disk) and filters: which backups go
(older than the retention, never the newest), which logs are truncated, which
volumes the stack owns (never pruned, used or not), du's output when stopped
early, and the lines a person reads. Real files for the host-side steps."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from loading import load_module

ROLE = Path(__file__).resolve().parent.parent / "roles" / "disk_cleanup"
DAY = 86400


disk = load_module(ROLE / "library" / "runbook_disk.py", "runbook_disk")
filters = load_module(ROLE / "filter_plugins" / "disk_cleanup_df.py", "disk_cleanup_df")

NOW = 1_800_000_000


def backup(name: str, days: float, size: int = 1) -> dict:
    return {"path": "/b/" + name, "mtime": int(NOW - days * DAY), "size": size}


def names(files: list[dict]) -> list[str]:
    return [f["path"].rsplit("/", 1)[1] for f in files]


def test_old_backups_go_recent_ones_stay():
    files = [backup("a.sql", 30), backup("b.sql", 8), backup("c.sql", 6.9), backup("d.sql", 1)]
    delete, keep = disk.select_backups(files, NOW, 7)
    assert names(delete) == ["a.sql", "b.sql"]
    assert names(keep) == ["c.sql", "d.sql"]


def test_the_newest_backup_stays_whatever_its_age():
    files = [backup("old.sql", 40), backup("newest.sql", 20), backup("older.sql", 50)]
    delete, keep = disk.select_backups(files, NOW, 7)
    assert names(keep) == ["newest.sql"]
    assert sorted(names(delete)) == ["old.sql", "older.sql"]


def test_no_backups_nothing_to_do():
    assert disk.select_backups([], NOW, 7) == ([], [])


def test_logs_over_the_threshold_only():
    files = [{"path": "/l/a.log", "size": 100}, {"path": "/l/b.log", "size": 101}]
    assert disk.logs_over(files, 100) == [{"path": "/l/b.log", "size": 101}]


CONFIG = {
    "name": "backend",
    "services": {
        "api": {"volumes": [{"type": "bind", "source": "/srv/x", "target": "/x"}]},
        "store": {"volumes": [{"type": "volume", "source": "data", "target": "/data"}]},
        "cache": {"volumes": [{"type": "volume", "source": "shared_ext", "target": "/c"}],
                  "logging": {"driver": "json-file", "options": {"max-size": "10m"}}},
    },
    "volumes": {"data": {"name": "backend_data"}, "unused": {"name": "backend_unused"},
                "shared_ext": {"name": "elsewhere", "external": True}},
}


def test_every_volume_the_stack_names_is_protected_used_or_not():
    project, protected = disk.stack_volumes(CONFIG)
    assert project == "backend"
    assert protected == ["backend_data", "backend_unused", "elsewhere"]


def test_a_volume_without_an_explicit_name_gets_the_project_prefix():
    _, protected = disk.stack_volumes({"name": "p", "volumes": {"v": None}, "services": {}})
    assert protected == ["p_v"]


def test_prunable_volumes_exclude_the_stacks_by_name_and_by_project_label():
    dangling = [{"name": "backend_data", "labels": {}},
                {"name": "backend_renamed", "labels": {"com.docker.compose.project": "backend"}},
                {"name": "leftover_cache", "labels": None},
                {"name": "other_db", "labels": {"com.docker.compose.project": "other"}}]
    prunable = disk.prunable_volumes(dangling, ["backend_data"], "backend")
    assert [v["name"] for v in prunable] == ["leftover_cache", "other_db"]


def test_log_caps_say_which_services_have_no_max_size():
    caps = {c["service"]: c["max_size"] for c in disk.log_caps(CONFIG)}
    assert caps == {"api": "", "cache": "10m", "store": ""}


def test_du_output_stopped_early_keeps_what_it_printed():
    text = "20480\t/srv/p/backups\n10240\t/srv/p/app\n4\t/srv/p/nginx\n30724\t/srv/p\n99\t/srv/p/partial-line"
    biggest = disk.parse_du(text[: text.rindex("\n")], "/srv/p", 2)
    assert biggest == [{"path": "/srv/p/backups", "bytes": 20480 * 1024}, {"path": "/srv/p/app", "bytes": 10240 * 1024}]


def test_percent_rounds_up_like_df():
    assert disk.percent(901, 99) == 91
    assert disk.percent(0, 0) == 0


def test_the_host_side_steps_on_real_files(tmp_path, monkeypatch):
    backups = tmp_path / "backups"
    (backups / "sub").mkdir(parents=True)
    for name, days in [("a.sql", 10), ("sub/b.tar.gz", 9), ("c.sql", 1), ("notes.txt", 30)]:
        path = backups / name
        path.write_bytes(b"x" * 10)
        os.utime(path, (time.time() - days * DAY,) * 2)
    params = {"backup_dir": str(backups), "patterns": ["*.sql", "*.tar.gz"], "days": 7}
    dry = disk.backups(params, check_mode=True)
    assert dry["freed"] == 20 and (backups / "a.sql").exists()
    done = disk.backups(params, check_mode=False)
    assert sorted(names(done["deleted"])) == ["a.sql", "b.tar.gz"]
    assert sorted(p.name for p in backups.rglob("*") if p.is_file()) == ["c.sql", "notes.txt"]

    log = tmp_path / "access.log"
    log.write_bytes(b"y" * 50)
    inode = log.stat().st_ino
    with open(log, "ab") as handle:
        result = disk.logs({"globs": [str(tmp_path / "*.log")], "threshold": 10}, check_mode=False)
        handle.write(b"z")
    assert result["freed"] == 50 and result["changed"]
    assert log.stat().st_ino == inode and log.read_bytes().endswith(b"z")


def test_check_mode_probe_subtracts_what_the_cleanup_would_free(tmp_path):
    params = {"paths": [str(tmp_path)], "pending": [{"path": str(tmp_path / "f"), "size": 4096}],
              "du_min_percent": 101, "du_depth": 1, "du_timeout": 1, "top": 3}
    real = disk.probe(dict(params, pending=[]))["mounts"][0]
    projected = disk.probe(params)["mounts"][0]
    assert projected["projected"] and projected["used"] <= real["used"] - 4096 + 1024 * 1024


def test_the_lines_a_person_reads():
    mount = {"mount": "/srv/p", "percent": 97, "used": 62 * 2**20, "avail": 2 * 2**20,
             "biggest": [{"path": "/srv/p/backups", "bytes": 32 * 2**20}], "du_complete": False}
    assert filters.disk_cleanup_line(mount) == (
        "/srv/p: 97% used (62M of 64M, 2.0M free); biggest: /srv/p/backups 32M (du stopped at its time limit)")


def test_docker_system_df_summary_ignores_unknown_sizes():
    df = {"LayersSize": 1000, "Containers": [{"SizeRw": 10}, {"SizeRw": None}],
          "Volumes": [{"UsageData": {"Size": -1}}, {"UsageData": {"Size": 5}}], "BuildCache": [{"Size": 7}]}
    assert filters.disk_cleanup_df(df) == {"images": 1000, "containers": 10, "volumes": 5, "build_cache": 7, "total": 1022}
    assert filters.disk_cleanup_df_compare(filters.disk_cleanup_df(df), filters.disk_cleanup_df({})).startswith(
        "docker system df: 1022B -> 0B")
