# SPDX-License-Identifier: GPL-3.0-or-later
"""The disk_cleanup role's module (runbook_disk) and filters: which backups go
(older than the retention, never the newest), which logs are truncated, which
volumes the stack owns (never pruned, used or not), du's output when stopped
early, and the lines a person reads. Real files for the host-side steps."""

from __future__ import annotations

import gzip
import json
import os
import time
from pathlib import Path

import pytest

from ansible_collections.runbook.ops.plugins.filter import disk_cleanup_df
from ansible_collections.runbook.ops.plugins.modules import runbook_disk

ROLE = Path(__file__).resolve().parents[4] / "roles" / "disk_cleanup"
DAY = 86400


disk = runbook_disk
filters = disk_cleanup_df

NOW = 1_800_000_000


def backup(name: str, days: float, size: int = 1) -> dict:
    return {"path": "/b/" + name, "mtime": int(NOW - days * DAY), "size": size}


def names(files: list[dict]) -> list[str]:
    return [f["path"].rsplit("/", 1)[1] for f in files]


def valid(_file: dict) -> tuple[bool, str]:
    return True, "not empty"


def flat(series: list[dict], key: str) -> list[str]:
    return [name for entry in series for name in names(entry[key])]


def test_old_backups_go_the_two_newest_valid_and_recent_ones_stay():
    files = [backup("db-1.sql", 30), backup("db-2.sql", 8), backup("db-3.sql", 6.9), backup("db-4.sql", 1),
             backup("db-5.sql", 0.5)]
    series = disk.select_backups(files, NOW, 7, 2, valid)
    assert flat(series, "valid") == ["db-5.sql", "db-4.sql"]
    assert flat(series, "kept") == ["db-3.sql"]
    assert flat(series, "deleted") == ["db-2.sql", "db-1.sql"]


def test_the_newest_valid_backups_stay_whatever_their_age():
    files = [backup("db-old.sql", 40), backup("db-new.sql", 20), backup("db-older.sql", 50)]
    series = {entry["series"]: entry for entry in disk.select_backups(files, NOW, 7, 2, valid)}
    assert list(series) == ["/b/db-new.sql", "/b/db-old.sql", "/b/db-older.sql"]  # no digits: three series
    files = [backup("db-11.sql", 40), backup("db-12.sql", 20), backup("db-10.sql", 50)]
    series = disk.select_backups(files, NOW, 7, 2, valid)
    assert flat(series, "valid") == ["db-12.sql", "db-11.sql"]
    assert flat(series, "deleted") == ["db-10.sql"]


def test_an_empty_newer_file_never_costs_the_only_valid_backup():
    """The issue's host: a valid 9-day-old dump, a corrupt .gz and a 0-byte file, both newer."""
    files = [backup("db-20261127.sql.gz", 9), backup("db-20261204.sql.gz", 2), backup("db-20261205.sql.gz", 1, size=0)]
    broken = {"db-20261204.sql.gz": (False, "gzip -t: unexpected end of file"), "db-20261205.sql.gz": (False, "empty")}
    series = disk.select_backups(files, NOW, 7, 2, lambda f: broken.get(f["path"][3:], (True, "gzip -t passed")))
    assert len(series) == 1 and series[0]["series"] == "/b/db-*.sql.gz"
    assert flat(series, "valid") == ["db-20261127.sql.gz"]
    assert flat(series, "deleted") == []
    assert [(f["path"][3:], f["why"]) for f in series[0]["broken"]] == [
        ("db-20261205.sql.gz", "empty"), ("db-20261204.sql.gz", "gzip -t: unexpected end of file")]


def test_series_are_kept_apart_by_directory_and_name():
    files = [backup("db-1.sql", 30), backup("db-2.sql", 20), backup("db-3.sql", 10),
             backup("app-1.tar.gz", 30), {"path": "/b/sub/db-4.sql", "mtime": NOW - 40 * DAY, "size": 1}]
    series = disk.select_backups(files, NOW, 7, 2, valid)
    assert [entry["series"] for entry in series] == ["/b/app-*.tar.gz", "/b/db-*.sql", "/b/sub/db-*.sql"]
    assert flat(series, "deleted") == ["db-1.sql"]


def test_an_unchecked_backup_is_not_counted_as_valid_and_not_deleted():
    files = [backup("x-1.dump", 10), backup("x-2.dump", 20), backup("x-3.dump", 30)]
    series = disk.select_backups(files, NOW, 7, 2, lambda f: (None, "not checked: pg_restore is not installed"))
    assert flat(series, "deleted") == [] and flat(series, "valid") == []
    assert [f["checked"] for f in series[0]["broken"]] == [False, False, False]


def test_no_backups_nothing_to_do():
    assert disk.select_backups([], NOW, 7, 2, valid) == []


@pytest.mark.parametrize("data, keep, start", [
    (b"aa\nbb\ncc\n", 100, 0),        # the whole file fits
    (b"aa\nbb\ncc\n", 3, 6),          # exactly the last line
    (b"aa\nbb\ncc\n", 4, 6),          # a line cut in two moves on to the next whole one
    (b"aaaaaaaaaa\n", 5, 11),          # a line longer than the tail: no part of it is kept
    (b"aaaaaaaaaa", 5, 5),              # no line ends in the tail: the tail as it is
])
def test_tail_start_keeps_whole_lines(data, keep, start):
    assert disk.tail_start(lambda offset, n: data[offset:offset + n], len(data), keep) == start


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


def test_the_host_side_steps_on_real_files(tmp_path):
    backups = tmp_path / "backups"
    (backups / "sub").mkdir(parents=True)
    for name, days in [("a-1.sql", 10), ("sub/b-1.tar.gz", 9), ("a-2.sql", 9), ("a-3.sql", 1), ("notes.txt", 30)]:
        path = backups / name
        path.write_bytes(b"x" * 10)
        os.utime(path, (time.time() - days * DAY,) * 2)
    params = {"backup_dir": str(backups), "patterns": ["*.sql", "*.tar.gz"], "days": 7, "keep": 2, "recurse": False}
    dry = disk.backups(params, check_mode=True)
    assert dry["freed"] == 10 and (backups / "a-1.sql").exists()
    assert dry["skipped_dirs"] == [str(backups / "sub")]
    done = disk.backups(params, check_mode=False)
    assert names(done["deleted"]) == ["a-1.sql"]
    assert sorted(p.name for p in backups.rglob("*") if p.is_file()) == ["a-2.sql", "a-3.sql", "b-1.tar.gz", "notes.txt"]
    # Asked to, it searches the subdirectory too (its one backup is the newest valid of its series: kept).
    deeper = disk.backups(dict(params, recurse=True), check_mode=False)
    assert deeper["deleted"] == [] and deeper["skipped_dirs"] == []


def test_gzip_backups_are_checked_with_gzip(tmp_path):
    good, cut, empty = tmp_path / "db-1.sql.gz", tmp_path / "db-2.sql.gz", tmp_path / "db-3.sql.gz"
    good.write_bytes(gzip.compress(b"CREATE TABLE t (id int);\n" * 1000))
    cut.write_bytes(gzip.compress(os.urandom(20000))[:5000])
    empty.write_bytes(b"")
    check = [disk.check_backup({"path": str(p), "size": p.stat().st_size}) for p in (good, cut, empty)]
    assert check[0] == (True, "gzip -t passed")
    assert check[1][0] is False and check[1][1].startswith("gzip -t: ")
    assert check[2] == (False, "empty")


def test_logs_are_cut_to_their_last_lines_in_place(tmp_path):
    log = tmp_path / "access.log"
    lines = b"".join(b"line %06d\n" % n for n in range(1000))  # 12 bytes a line
    log.write_bytes(lines)
    inode = log.stat().st_ino
    params = {"globs": [str(tmp_path / "*.log")], "threshold": 100, "keep_bytes": 50, "archive": False,
              "lockdown_file": str(tmp_path / "no-lockdown"), "evidence_dir": str(tmp_path / "evidence"),
              "archive_bytes": 1 << 20}
    dry = disk.logs(params, check_mode=True)
    assert dry["files"][0]["kept"] == 48 and log.read_bytes() == lines
    with open(log, "ab") as handle:
        result = disk.logs(params, check_mode=False)
        handle.write(b"z\n")
    assert result["changed"] and result["freed"] == len(lines) - 48
    assert result["evidence"] == {"reason": "", "dir": "", "archives": []}
    assert log.stat().st_ino == inode
    assert log.read_bytes() == lines[-48:] + b"z\n"  # four whole lines, then what the writer appended
    assert not (tmp_path / "evidence").exists()


def test_while_a_lockdown_is_recorded_the_tail_is_archived_first(tmp_path):
    log = tmp_path / "api.log"
    lines = b"".join(b"line %06d\n" % n for n in range(1000))
    log.write_bytes(lines)
    lockdown = tmp_path / "firewall-lockdown.current"
    lockdown.write_text("/var/lib/runbook/snapshots/x\n")
    params = {"globs": [str(log)], "threshold": 100, "keep_bytes": 50, "archive": False,
              "lockdown_file": str(lockdown), "evidence_dir": str(tmp_path / "evidence"), "archive_bytes": 120}
    result = disk.logs(params, check_mode=False)
    assert result["evidence"]["reason"] == "a lockdown is recorded (%s)" % lockdown
    archive = Path(result["files"][0]["archive"])
    folder = Path(result["evidence"]["dir"])
    assert folder.parent == tmp_path / "evidence" and folder.name.endswith("Z-logs")
    assert folder.stat().st_mode & 0o777 == 0o700 and folder.parent.stat().st_mode & 0o777 == 0o700
    assert archive == folder / (str(log).lstrip("/") + ".gz")
    assert gzip.decompress(archive.read_bytes()) == lines[-120:]  # the last 120 bytes are ten whole lines
    assert archive.stat().st_mode & 0o777 == 0o600
    index = json.loads((folder / "index.json").read_text())
    assert [(entry["log"], entry["bytes"], entry["from"]) for entry in index] == [(str(log), 120, len(lines) - 120)]
    assert log.read_bytes() == lines[-48:]


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
