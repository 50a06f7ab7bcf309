# SPDX-License-Identifier: GPL-3.0-or-later
"""After the disk cleanup on a 64 MB filesystem filled to about 97%, while a
lockdown is recorded: real free space, old backups deleted, the newest valid
ones of each series kept (an empty or corrupt newer file does not count, and
is kept too), a subdirectory not searched, logs cut to their last MiB in
place (same inode, whole lines, nginx still writes) after their tail was
archived compressed under the state dir, the stack's named volume and its data
kept while an unrelated volume is gone, the app healthy. The engine caps json
logs (daemon.json, other keys kept), a container created afterwards carries the
cap, and the api container ran through the engine restart (same start time)."""

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "shared" / "tests"))
import engine_logs  # noqa: E402

PRESSURE = "/srv/pressure"
BACKUPS = PRESSURE + "/backups"
EVIDENCE = "/var/lib/runbook/evidence"
MIB = 1024 * 1024


def dated(host, prefix: str, age: int, suffix: str) -> str:
    """A backup's path as prepare named it: prefix-YYYYMMDD.suffix, the date `age` days ago on the host."""
    return "%s/%s-%s.%s" % (BACKUPS, prefix, host.check_output("date -d %s +%%Y%%m%%d", "%d days ago" % age), suffix)


def evidence_folder(host) -> str:
    folders = host.check_output("find %s -mindepth 1 -maxdepth 1 -type d -name '*-logs'", EVIDENCE).split()
    assert len(folders) == 1, folders  # one cut, one folder: the idempotence run archived nothing
    return folders[0]


def test_the_filesystem_has_room_again(host):
    used = int(host.check_output("df --output=pcent %s | tail -1", PRESSURE).strip().rstrip("%"))
    free_kib = int(host.check_output("df --output=avail -k %s | tail -1", PRESSURE).strip())
    assert used < 90
    assert free_kib > 40 * 1024  # about 50 MiB of the 64 MiB freed


@pytest.mark.parametrize("name", ["db-30.sql", "db-20.sql", "db-15.sql", "db-10.sql", "db-8.sql"])
def test_backups_older_than_7_days_are_deleted(host, name):
    assert not host.file(BACKUPS + "/" + name).exists


@pytest.mark.parametrize("name", ["db-3.sql", "db-1.sql", "notes.txt"])
def test_recent_backups_and_other_files_are_kept(host, name):
    assert host.file(BACKUPS + "/" + name).exists


def test_the_newest_backup_is_intact(host):
    assert host.file(BACKUPS + "/db-1.sql").size == 4 * 1024 * 1024


def test_a_subdirectory_of_backup_dir_is_not_searched(host):
    assert host.file(BACKUPS + "/archive/app-12.tar.gz").size == 4 * MIB


def test_the_only_valid_gzip_dump_stays_although_9_days_old_and_newer_broken_ones_exist(host):
    valid = dated(host, "app", 9, "sql.gz")
    assert host.run("gzip -t %s", valid).rc == 0
    assert host.file(dated(host, "app", 2, "sql.gz")).size == 100 * 1024  # cut short: kept for a person
    assert host.file(dated(host, "app", 1, "sql.gz")).exists  # empty: kept, not counted as valid


def test_the_two_newest_valid_custom_dumps_stay_the_older_one_goes(host):
    for age in (10, 9):
        assert host.run("pg_restore --list %s", dated(host, "pg", age, "dump")).rc == 0
    assert not host.file(dated(host, "pg", 20, "dump")).exists
    assert host.file(dated(host, "pg", 1, "dump")).content_string == "not a dump\n"


def test_logs_are_cut_to_their_last_mib_of_whole_lines_not_deleted(host):
    access = host.file("/var/log/nginx/access.log")
    assert access.exists
    assert host.check_output("stat -c %%i %s", access.path) == host.file("/root/disk-access-log-inode.txt").content_string.strip()
    api = host.file(PRESSURE + "/app/api.log")
    assert host.check_output("stat -c %%i %s", api.path) == host.file("/root/disk-api-log-inode.txt").content_string.strip()
    assert MIB - 100 < api.size <= MIB
    lines = api.content_string.splitlines()
    assert lines[0].startswith("api line ") and len(lines[0]) == len(lines[-1])  # starts with a whole line
    assert lines[-1].startswith("api line 000000150000 ")  # ends where the log ended


def test_the_logs_tails_were_archived_compressed_under_the_state_dir_first(host):
    folder = evidence_folder(host)
    assert host.file(folder).mode == 0o700
    api = folder + "/srv/pressure/app/api.log.gz"
    access = folder + "/var/log/nginx/access.log.gz"
    for archive in (api, access):
        assert host.file(archive).mode == 0o600
        assert host.run("gzip -t %s", archive).rc == 0
    # The whole api log fits in the archive's 256 MiB: the archive is the log as it was.
    assert host.check_output("gzip -dc %s | sha256sum | cut -d' ' -f1", api) == host.file("/root/disk-api-log.sha256").content_string.strip()
    # ... and the part still in the log is its end.
    log = PRESSURE + "/app/api.log"
    assert host.run("gzip -dc %s | tail -c %s | cmp -s - %s", api, str(host.file(log).size), log).rc == 0
    assert "access line 000000300000 " in host.check_output("gzip -dc %s | tail -n 1", access)
    index = json.loads(host.file(folder + "/index.json").content_string)
    assert sorted(entry["log"] for entry in index) == [PRESSURE + "/app/api.log", "/var/log/nginx/access.log"]


def test_nginx_still_writes_its_cut_log(host, app):
    before = host.file("/var/log/nginx/access.log").size
    assert app.http_status("http://127.0.0.1/health") == "200"
    assert host.file("/var/log/nginx/access.log").size > before


def test_the_stacks_named_volume_and_its_data_survive(host):
    assert host.run("docker volume inspect backend_data").rc == 0
    assert host.check_output("docker run --rm --network none -v backend_data:/data echoelmusic-api:latest cat /data/keep.txt") == "precious"


def test_the_unrelated_volume_the_stopped_container_and_dangling_images_are_gone(host):
    assert host.run("docker volume inspect leftover_cache").rc != 0
    assert host.check_output("docker ps -a -q --filter name=store") == ""
    assert host.check_output("docker images -q -f dangling=true") == ""


def test_env_and_work_tree_untouched(host, app):
    assert host.file(app.compose_dir + "/.env").exists
    assert host.check_output("git -C %s status --porcelain --untracked-files=no", app.repo) == ""


def test_health_answers_200(app):
    assert app.health()[0] == "200"


def test_daemon_json_caps_json_logs_with_live_restore_and_keeps_the_other_keys(host):
    config = json.loads(host.file("/etc/docker/daemon.json").content_string)
    assert config["log-driver"] == "json-file"
    assert config["log-opts"] == {"max-size": "10m", "max-file": "3"}
    assert config["live-restore"] is True
    assert config["bridge"] == "none" and config["iptables"] is False  # the test image's own keys


def test_the_running_engine_has_live_restore_and_the_previous_file_is_kept(host):
    assert host.check_output("docker info -f '{{.LiveRestoreEnabled}}'") == "true"
    kept = host.check_output("cat /var/lib/runbook/snapshots/*-docker/daemon.json")
    assert json.loads(kept) == {"bridge": "none", "iptables": False, "log-driver": "json-file"}


def test_a_container_created_now_gets_the_engines_cap(host):
    # No logging options given: what it gets is the engine's default.
    assert engine_logs.new_container_log_config(host) == {"Type": "json-file", "Config": {"max-file": "3", "max-size": "10m"}}


def test_the_api_container_ran_through_the_engine_restart(host, app):
    noted = host.file("/root/disk-api-started.txt")
    # The engine was restarted after prepare noted the api's start time (a new pid file) ...
    assert host.file("/var/run/docker.pid").mtime > noted.mtime
    # ... and the api container is the same run of the same container.
    assert host.check_output("docker inspect -f '{{.State.StartedAt}}' %s", app.container_id("api")) == noted.content_string.strip()
