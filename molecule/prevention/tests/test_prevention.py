# SPDX-License-Identifier: GPL-3.0-or-later
"""After the prevention checklist (rate 2r/s, burst 5) and a refused broken
snippet: logrotate accepts its rule, nginx runs the rate-limited config and a
burst from the host gets 429s, the old config survived the broken one, the
alert script fires into the journal when its threshold is lowered, the daily
certificate alert fires only when its threshold is above the lineage's days
left (prepare gave it 90), and unattended-upgrades reads its security-only
config offline with apt's daily timers enabled, and the engine caps json logs
(5m x 2, the scenario's values) with live-restore, its own keys kept."""

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "shared" / "tests"))
import engine_logs  # noqa: E402

SNIPPET = "/etc/nginx/snippets/runbook-ratelimit.conf"
# converge moved the fixture's site (sites-available/echoelmusic) there; nginx -T finds it by its server_name.
SITE = "/etc/nginx/sites-available/api"
ENABLED = "/etc/nginx/sites-enabled/echoelmusic"
ALERT = "/usr/local/sbin/runbook-alert"
CERT_UNIT = "runbook-alert-certificate"
DOMAIN = "api.echoelmusic.com"


def test_logrotate_accepts_the_rule_and_the_whole_config(host):
    assert "/var/log/echoelmusic/*.log" in host.file("/etc/logrotate.d/runbook").content_string
    assert host.run("logrotate -d /etc/logrotate.d/runbook").rc == 0
    assert host.run("logrotate -d /etc/logrotate.conf").rc == 0


def test_nginx_validates_and_includes_the_rate_limit(host):
    assert host.run("nginx -t").rc == 0
    assert host.service("nginx").is_running
    assert "include %s;" % SNIPPET in host.file(SITE).content_string
    assert not host.file("/etc/nginx/sites-available/echoelmusic").exists


def test_the_snippet_is_in_the_server_block_nginx_serves_the_domain_from(host):
    # nginx -T prints each file it loaded after "# configuration file PATH:".
    loaded = host.check_output("nginx -T 2>/dev/null").split("# configuration file ")
    serving = [part for part in loaded if "server_name %s;" % DOMAIN in part]
    assert [part.split(":", 1)[0] for part in serving] == [ENABLED]
    block = serving[0].split("server {", 1)[1]
    assert block.index("server_name %s;" % DOMAIN) < block.index("include %s;" % SNIPPET) < block.index("location /")
    assert host.file(ENABLED).linked_to == SITE
    assert "rate=2r/s" in host.file("/etc/nginx/conf.d/runbook-ratelimit.conf").content_string


def test_a_burst_from_the_host_gets_429s(host):
    time.sleep(3)  # let the bucket drain after earlier requests
    codes = host.check_output(
        "for i in $(seq 30); do curl -s -o /dev/null -w '%%{http_code}\\n' --max-time 5 %s; done",
        "http://127.0.0.1/health",
    ).split()
    assert codes.count("200") >= 5
    assert codes.count("429") >= 10


def test_the_broken_snippet_was_refused_and_the_old_config_kept(host):
    snippet = host.file(SNIPPET).content_string
    assert "burst=5 " in snippet
    assert "burst=-1" not in snippet
    snapshots = host.check_output("ls -d /var/lib/runbook/snapshots/*-nginx").split()
    assert len(snapshots) == 2  # the first apply and the refused one
    assert host.file(snapshots[-1] + "/_etc_nginx_snippets_runbook-ratelimit.conf").content_string == snippet
    assert host.file(snapshots[-1]).mode == 0o700


def test_the_alert_timer_and_its_files(host):
    assert host.service("runbook-alert.timer").is_enabled
    assert host.service("runbook-alert.timer").is_running
    assert host.file(ALERT).mode == 0o755
    assert host.file("/etc/runbook/alert.env").mode == 0o600
    assert host.run("systemctl start runbook-alert.service").rc == 0


def test_a_lowered_disk_threshold_alerts_into_the_journal(host):
    since = "@" + host.check_output("date +%s")
    assert host.run("RUNBOOK_ALERT_DISK_PERCENT=1 %s", ALERT).rc == 0
    time.sleep(1)
    journal = host.check_output("journalctl -q -t runbook-alert --since %s -o cat", since)
    assert "disk / is" in journal and "(alert at 1%)" in journal


def test_a_failing_health_url_alerts_into_the_journal(host):
    since = "@" + host.check_output("date +%s")
    cmd = "RUNBOOK_ALERT_HEALTH_URL=http://127.0.0.1:9/ RUNBOOK_ALERT_HEALTH_FAILURES=1 %s"
    assert host.run(cmd, ALERT).rc == 0
    time.sleep(1)
    journal = host.check_output("journalctl -q -t runbook-alert --since %s -o cat", since)
    assert "health http://127.0.0.1:9/ failed" in journal


def journal_since(host, since):
    time.sleep(1)
    return host.check_output("journalctl -q -t runbook-alert --since %s -o cat", since)


def test_the_certificate_alert_unit_stays_quiet_with_30_days_against_90(host):
    assert host.service(CERT_UNIT + ".timer").is_enabled
    assert host.service(CERT_UNIT + ".timer").is_running
    settings = host.file("/etc/runbook/alert-certificate.env")
    assert settings.mode == 0o600
    assert "RUNBOOK_ALERT_CERT_DAYS=30\n" in settings.content_string
    since = "@" + host.check_output("date +%s")
    assert host.run("systemctl start %s.service", CERT_UNIT).rc == 0
    assert "certificate" not in journal_since(host, since)


def test_the_certificate_alert_unit_fires_with_400_days_against_90(host):
    since = "@" + host.check_output("date +%s")
    # The unit inherits the service manager's environment, which overrides the settings file.
    assert host.run("systemctl set-environment RUNBOOK_ALERT_CERT_DAYS=400").rc == 0
    try:
        assert host.run("systemctl start %s.service", CERT_UNIT).rc == 0
    finally:
        host.run("systemctl unset-environment RUNBOOK_ALERT_CERT_DAYS")
    lineage = "/etc/letsencrypt/live/%s/fullchain.pem" % DOMAIN
    assert "certificate for %s expires in 89 days (lineage %s: 89 days; alert at 400 days)" % (DOMAIN, lineage) \
        in journal_since(host, since)


def test_unattended_upgrades_allow_only_the_security_origins_offline(host):
    assert host.package("unattended-upgrades").is_installed
    periodic = host.file("/etc/apt/apt.conf.d/20auto-upgrades").content_string
    assert 'APT::Periodic::Update-Package-Lists "1";' in periodic
    assert 'APT::Periodic::Unattended-Upgrade "1";' in periodic
    # No network here: with no package lists it finds nothing to do, but it reads the whole config.
    run = host.run("unattended-upgrade --dry-run -d")
    assert run.rc == 0, run.stderr
    line = next(line for line in run.stdout.splitlines() if line.startswith("Allowed origins are: "))
    codename = host.check_output(". /etc/os-release && echo $VERSION_CODENAME")
    assert line.split(": ", 1)[1].split(", ") == [
        "origin=Debian,codename=%s,label=Debian-Security" % codename,
        "origin=Debian,codename=%s-security,label=Debian-Security" % codename,
    ]
    for timer in ("apt-daily.timer", "apt-daily-upgrade.timer"):
        assert host.service(timer).is_enabled
        assert host.service(timer).is_running


def test_the_backup_timer_dumps_a_restorable_database_without_the_password_in_sight(host, app):
    assert host.service("runbook-backup.timer").is_enabled
    assert host.file("/etc/runbook/pgpass").mode == 0o600
    assert host.file("/etc/runbook/backup.env").mode == 0o600
    env = host.file(app.compose_dir + "/.env").content_string
    password = env.split("DATABASE_URL=postgresql://", 1)[1].split(":", 1)[1].split("@", 1)[0]
    for path in ["/etc/runbook/backup.env", "/usr/local/sbin/runbook-backup",
                 "/etc/systemd/system/runbook-backup.service", "/etc/systemd/system/runbook-backup.timer"]:
        assert password not in host.file(path).content_string
    assert host.run("systemctl start runbook-backup.service").rc == 0
    dump = host.check_output("ls -1t /root/backups/db-*.dump | head -n 1")
    assert host.file(dump).mode == 0o600
    # The role's restore check ran after the dump (ExecStartPost) and counted the tables
    # of the restored dump: as many as the app's database has.
    tables = host.check_output("runuser -u postgres -- psql -tAX -d echoelmusic -c %s",
                               "SELECT count(*) FROM information_schema.tables "
                               "WHERE table_schema NOT IN ('pg_catalog', 'information_schema')")
    journal = host.check_output("journalctl -u runbook-backup.service --no-pager -o cat")
    assert f"restore check: {dump} restored into a scratch database with {tables} tables" in journal
    assert int(tables) >= 1
    assert "runbook_restore_check" not in host.check_output("runuser -u postgres -- psql -tAX -l")  # dropped
    # And the rows are there: the newest dump loads into a scratch database with its rows.
    scratch = "backup_restore_check"
    host.run("runuser -u postgres -- dropdb --if-exists %s", scratch)
    assert host.run("runuser -u postgres -- createdb %s", scratch).rc == 0
    try:
        assert host.run("runuser -u postgres -- pg_restore --no-owner -d %s < %s", scratch, dump).rc == 0
        count = host.check_output("runuser -u postgres -- psql -tAX -d %s -c %s", scratch, "SELECT count(*) FROM backup_probe")
        assert count == "3"
    finally:
        host.run("runuser -u postgres -- dropdb --if-exists %s", scratch)


def test_the_engine_caps_json_logs_with_the_scenarios_values_and_live_restore(host):
    config = json.loads(host.file("/etc/docker/daemon.json").content_string)
    assert config["log-opts"] == {"max-size": "5m", "max-file": "2"}
    assert config["log-driver"] == "json-file" and config["live-restore"] is True
    assert config["bridge"] == "none" and config["iptables"] is False  # the test image's own keys
    assert host.check_output("docker info -f '{{.LiveRestoreEnabled}}'") == "true"
    assert engine_logs.new_container_log_config(host) == {"Type": "json-file", "Config": {"max-file": "2", "max-size": "5m"}}


def test_the_restore_check_fails_loudly_when_it_cannot_restore(host):
    """Without CREATEDB the check's own role cannot make its scratch database: exit 1, one
    line that says what to do (never "grant the app's user CREATEDB"), and the same line in
    the journal under the alerts' tag."""
    assert host.run("runuser -u postgres -- psql -qX -c 'ALTER ROLE runbook_restore NOCREATEDB'").rc == 0
    try:
        result = host.run("/usr/local/sbin/runbook-backup-check")
    finally:
        host.run("runuser -u postgres -- psql -qX -c 'ALTER ROLE runbook_restore CREATEDB'")
    assert result.rc == 1
    assert "restore check FAILED: cannot create the scratch database runbook_restore_check" in result.stderr
    assert "as runbook_restore (the restore check's role runbook_restore needs LOGIN, CREATEDB" in result.stderr
    assert "grant it CREATEDB" not in result.stderr
    time.sleep(1)
    assert "restore check FAILED" in host.check_output("journalctl -t runbook-alert --no-pager -o cat")


def test_the_app_user_never_needed_createdb(host):
    """The restore check ran (backup test above) with the app's internet-facing role left
    without CREATEDB: the check's own role made the scratch database."""
    assert host.check_output("runuser -u postgres -- psql -tAX -c %s",
                             "SELECT rolcreatedb FROM pg_roles WHERE rolname = 'echoelmusic'") == "f"
    # The check's own line: any database (*), user runbook_restore (not the scratch database's name).
    assert ":*:runbook_restore:" in host.file("/etc/runbook/pgpass").content_string


def test_the_restore_check_loads_nothing_without_room_for_a_copy(host):
    """A database server whose disk would keep less than the reserve after a full copy:
    the check refuses before it creates anything (here the reserve is set 10 GB above what
    is free, as on a nearly full production server)."""
    assert host.check_output("ls -1 /root/backups/ | grep -c 'db-.*dump$'") != "0"
    free_mb = int(host.check_output("df -Pk /var/lib/postgresql | awk 'NR == 2 {print $4}'")) // 1024
    result = host.run("RUNBOOK_BACKUP_CHECK_RESERVE_MB=%s /usr/local/sbin/runbook-backup-check", str(free_mb + 10240))
    assert result.rc == 1, result.stdout
    assert "restore check FAILED: not enough free space for a copy of echoelmusic" in result.stderr
    assert "must stay free (prevention_backup_check_reserve_mb); nothing was loaded" in result.stderr
    assert "restored into a scratch database" not in result.stdout
