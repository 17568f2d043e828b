"""scripts/backup-restore round-trips a database with invoices and reports equal counts and totals."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.ops.conftest import (
    BIN,
    ROOT,
    clean_env,
    drop_database,
    needs_postgres,
    psql,
    recreate_database,
)

pytestmark = needs_postgres
SOURCE, TARGET = "ops_test_src", "ops_test_dst"
SCRIPT = str(ROOT / "scripts" / "backup-restore")


@pytest.fixture(scope="module")
def source_with_invoices(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated database with a PBX, its first-term invoice and one renewal invoice."""
    drop_database(TARGET)
    url = recreate_database(SOURCE)
    env = clean_env(DATABASE_URL=url, PBXPORTAL_DATA_DIR=str(tmp_path_factory.mktemp("data")))
    subprocess.run([str(BIN / "pbxportal"), "migrate"], cwd=ROOT, env=env, check=True, capture_output=True)
    seed = [sys.executable, "-m", "tests.ops.seed"]
    seeded = subprocess.run(
        [*seed, "renewal", "--start", "2026-01-10"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    renewal_day = json.loads(seeded.stdout.splitlines()[-1])["renewal_day"]
    subprocess.run(
        [*seed, "clock", "--until", renewal_day], cwd=ROOT, env=env, check=True, capture_output=True
    )
    try:
        yield url
    finally:
        drop_database(TARGET)
        drop_database(SOURCE)


@pytest.fixture(autouse=True)
def no_target() -> None:
    drop_database(TARGET)


def run(*args: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [SCRIPT, *args],
        cwd=ROOT,
        env=clean_env(BACKUP_DIR=str(tmp_path / "backups")),
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_round_trip_reports_equal_invoice_counts_and_totals(
    source_with_invoices: str, tmp_path: Path
) -> None:
    # given a source with two invoices (first term and renewal)
    assert psql(SOURCE, "SELECT count(*), sum(total) FROM invoicing_invoice") == "2|80.000000"
    # when backed up and restored into a new database
    result = run(source_with_invoices, TARGET, tmp_path=tmp_path)
    # then both sides are printed, equal, and the script says so
    assert result.returncode == 0, result.stdout + result.stderr
    rows = {
        line.split()[0]: line.split()[1:] for line in result.stdout.splitlines() if ":" in line.split()[0]
    }
    assert rows["count:invoicing_invoice"] == ["2", "2"]
    assert rows["sum:invoicing_invoice.total"] == ["80.000000", "80.000000"]
    assert rows["count:invoicing_invoiceline"][0] == rows["count:invoicing_invoiceline"][1] != "0"
    assert "backup-restore: OK" in result.stdout
    assert list((tmp_path / "backups").glob("ops_test_src-*.dump"))
    assert psql(TARGET, "SELECT count(*), sum(total) FROM invoicing_invoice") == "2|80.000000"


def test_a_difference_fails_and_an_existing_target_is_refused(
    source_with_invoices: str, tmp_path: Path
) -> None:
    assert run(source_with_invoices, TARGET, tmp_path=tmp_path).returncode == 0
    # given the restored copy differs in one amount
    target_url = source_with_invoices.rsplit("/", 1)[0] + "/" + TARGET
    psql(
        TARGET,
        "UPDATE invoicing_invoice SET amount_paid = amount_paid + 1 WHERE id = (SELECT min(id) FROM invoicing_invoice)",
    )
    # then the comparison names it and exits 1
    compared = run("--compare-only", source_with_invoices, target_url, tmp_path=tmp_path)
    assert compared.returncode == 1
    assert any(
        line.startswith("sum:invoicing_invoice.amount_paid") and line.endswith("<-- differs")
        for line in compared.stdout.splitlines()
    )
    assert "MISMATCH" in compared.stderr
    # and a restore never overwrites an existing database
    again = run(source_with_invoices, TARGET, tmp_path=tmp_path)
    assert again.returncode == 2
    assert "cannot create ops_test_dst" in again.stderr
