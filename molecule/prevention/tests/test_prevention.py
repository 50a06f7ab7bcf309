"""After the prevention checklist (rate 2r/s, burst 5) and a refused broken
snippet: logrotate accepts its rule, nginx runs the rate-limited config and a
burst from the host gets 429s, the old config survived the broken one, and the
alert script fires into the journal when its threshold is lowered."""

import time

SNIPPET = "/etc/nginx/snippets/runbook-ratelimit.conf"
SITE = "/etc/nginx/sites-available/echoelmusic"
ALERT = "/usr/local/sbin/runbook-alert"


def test_logrotate_accepts_the_rule_and_the_whole_config(host):
    assert "/var/log/echoelmusic/*.log" in host.file("/etc/logrotate.d/runbook").content_string
    assert host.run("logrotate -d /etc/logrotate.d/runbook").rc == 0
    assert host.run("logrotate -d /etc/logrotate.conf").rc == 0


def test_nginx_validates_and_includes_the_rate_limit(host):
    assert host.run("nginx -t").rc == 0
    assert host.service("nginx").is_running
    assert "include %s;" % SNIPPET in host.file(SITE).content_string
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
    # The restore check: the newest dump loads into a scratch database with its rows.
    scratch = "backup_restore_check"
    host.run("runuser -u postgres -- dropdb --if-exists %s", scratch)
    assert host.run("runuser -u postgres -- createdb %s", scratch).rc == 0
    try:
        assert host.run("runuser -u postgres -- pg_restore --no-owner -d %s < %s", scratch, dump).rc == 0
        count = host.check_output("runuser -u postgres -- psql -tAX -d %s -c %s", scratch, "SELECT count(*) FROM backup_probe")
        assert count == "3"
    finally:
        host.run("runuser -u postgres -- dropdb --if-exists %s", scratch)
