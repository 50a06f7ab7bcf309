# SPDX-License-Identifier: GPL-3.0-or-later
"""The secret-leak scan molecule verifies use (molecule/shared/tests/leaks.py):
it finds a planted value and says only where, never what."""

from __future__ import annotations

from pathlib import Path

from loading import load_module

leaks = load_module(Path(__file__).resolve().parents[1] / "molecule" / "shared" / "tests" / "leaks.py", "leaks")

ENV = """\
NODE_ENV=production
PORT=3000
DATABASE_URL=postgresql://app:Pl4nted-db-pass@127.0.0.1:5432/app
export JWT_SECRET="0123456789abcdef0123456789abcdef"
# COMMENTED_OUT=not-a-value-at-all
ENABLE_STRIPE_PAYMENTS=true
"""


def test_secret_values_are_the_long_values_and_url_passwords() -> None:
    found = leaks.secret_values(ENV, label="old ")
    assert found == {
        "old DATABASE_URL": "postgresql://app:Pl4nted-db-pass@127.0.0.1:5432/app",
        "old DATABASE_URL password": "Pl4nted-db-pass",
        "old JWT_SECRET": "0123456789abcdef0123456789abcdef",
    }


def test_a_planted_value_is_found_by_name_and_file(tmp_path: Path) -> None:
    run = tmp_path / "runs" / "20261129-120000-security"
    (run / "job_events").mkdir(parents=True)
    (run / "report.md").write_text("# Incident Report\nnothing secret here\n")
    planted = run / "job_events" / "7-abc.json"
    planted.write_text('{"stdout": "db at postgresql://app:Pl4nted-db-pass@127.0.0.1"}')
    log = tmp_path / "scenario.log"
    log.write_bytes(b"\xff\xfe binary noise, then JWT_SECRET=0123456789abcdef0123456789abcdef\n")
    files = leaks.files_under(tmp_path / "runs", log, tmp_path / "missing.log")
    assert files == [planted, run / "report.md", log]
    found = leaks.scan(files, leaks.secret_values(ENV))
    assert found == [f"DATABASE_URL password in {planted}", f"JWT_SECRET in {log}"]
    assert not any("Pl4nted" in line or "0123456789abcdef" in line for line in found)


def test_clean_files_scan_clean(tmp_path: Path) -> None:
    (tmp_path / "stdout").write_text("JWT_SECRET=******** rotated\n")
    assert leaks.scan(leaks.files_under(tmp_path), leaks.secret_values(ENV)) == []
