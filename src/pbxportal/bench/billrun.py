"""``pbxportal bench billrun --pbxs N`` (R-INV-2): renewals invoiced per second by the bill run,
and the ratio to the floor, a PostgreSQL COPY of the same number of invoice lines.

A scratch PostgreSQL database is dropped, created, migrated and seeded (bulk inserts) with N
PBXs of 5 yearly licence subscriptions each, all renewing on one day, in partners of 100 PBXs.
The bill run is the production code path: ``billrun.due_chunks`` and ``billrun_chunk`` (the
Celery task's body), run by ``--workers`` processes forked like Celery's prefork pool. The mail
of each invoice (R-INV-3) is a separate queued task, not part of the bill run, and is not sent.
"""

from __future__ import annotations

import io
import multiprocessing
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

PBXS_PER_PARTNER = 100
START = date(2025, 1, 10)
DAY = date(2026, 1, 9)  # the last day of the first yearly term
PROFILES = ("UC-BASIC", "UC-ESSENTIAL", "UC-BUSINESS", "UC-PREMIUM", "UC-RECEPTION")


@dataclass(frozen=True)
class BillRunBench:
    pbxs: int
    lines: int
    runs: list[float]
    copies: list[float]
    workers: int

    @property
    def median(self) -> float:
        return statistics.median(self.runs)

    @property
    def floor(self) -> float:
        return statistics.median(self.copies)


def recreate_database(url: str) -> None:
    import psycopg

    head, _, name = url.rpartition("/")
    with psycopg.connect(f"{head}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def seed(pbxs: int, say: Callable[[str], None]) -> None:
    from pbxportal.accounts.models import BillingContact, Customer, Partner
    from pbxportal.catalog.models import Plan, Price, PriceBook, Product
    from pbxportal.pbx.models import Pbx, PbxStatus, Subscription

    book = PriceBook.objects.create(code="BENCH-EUR", name="Bench", type="gold", currency="EUR")
    model = Product.objects.create(code="BENCH-VM", name="Bench VM", family="pbx", pricing_model="flat")
    Plan.objects.create(product=model, code="BENCH-VM-yearly", term="yearly")
    plans = []
    for n, code in enumerate(PROFILES):
        product = Product.objects.create(
            code=code, name=code.title(), family="licence", pricing_model="per_unit"
        )
        plan = Plan.objects.create(product=product, code=f"{code}-yearly", term="yearly")
        Price.objects.create(book=book, plan=plan, amount=Decimal(60 + 12 * n))
        plans.append(plan)
    partner_count = (pbxs + PBXS_PER_PARTNER - 1) // PBXS_PER_PARTNER
    partners = Partner.objects.bulk_create(
        [
            Partner(name=f"Bench {i}", code=f"bench-{i}", country="IT", price_book=book)
            for i in range(partner_count)
        ]
    )
    customers = Customer.objects.bulk_create(
        [Customer(partner=p, name="Customer", country="IT") for p in partners]
    )
    BillingContact.objects.bulk_create(
        [
            BillingContact(partner=p, name="Billing", email=f"billing{p.pk}@bench.example", is_default=True)
            for p in partners
        ]
    )
    say(f"seeding {pbxs} PBXs, {pbxs * len(PROFILES)} subscriptions")
    batch = 20_000
    for first in range(0, pbxs, batch):
        rows = [
            Pbx(
                partner=partners[i // PBXS_PER_PARTNER],
                customer=customers[i // PBXS_PER_PARTNER],
                model=model,
                name=f"bench-{i}",
                term="yearly",
                anchor_date=START,
                expires_on=DAY + timedelta(days=1),
                invoiced_through=DAY + timedelta(days=1),
                serial=f"B{i:011d}",
                status=PbxStatus.ACTIVE,
            )
            for i in range(first, min(first + batch, pbxs))
        ]
        Pbx.objects.bulk_create(rows, batch_size=5000)
        Subscription.objects.bulk_create(
            [
                Subscription(
                    pbx=pbx,
                    product_id=plan.product_id,
                    plan=plan,
                    quantity=1 + (pbx.pk + n) % 7,
                    started_on=START,
                )
                for pbx in rows
                for n, plan in enumerate(plans)
            ],
            batch_size=5000,
        )


def reset() -> None:
    """Undo a bill run on the scratch database (bypassing R-INV-1's guards, which protect real data)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE invoicing_invoiceline, invoicing_invoice, invoicing_billrun, invoicing_numbersequence CASCADE"
        )
        cursor.execute("UPDATE pbx_pbx SET invoiced_through = %s", [DAY + timedelta(days=1)])
        cursor.execute("VACUUM ANALYZE")


def _worker(queue: Any, run_id: int) -> None:
    from django.db import connections

    from pbxportal.pbx.services import billrun_chunk

    connections.close_all()
    while True:
        chunk = queue.get()
        if chunk is None:
            return
        billrun_chunk(run_id=run_id, pbx_ids=chunk, day=DAY)


def bill_run(workers: int, chunk_size: int) -> tuple[float, int]:
    from django.db import connections
    from django.utils import timezone

    from pbxportal.invoicing.models import BillRun, Invoice
    from pbxportal.pbx.billrun import due_chunks

    started = time.perf_counter()
    chunks = due_chunks(day=DAY, chunk_size=chunk_size)
    run = BillRun.objects.create(
        day=DAY, total=sum(len(c) for c in chunks), started_at=timezone.now(), attempts=1
    )
    connections.close_all()
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    for chunk in chunks:
        queue.put(chunk)
    for _ in range(workers):
        queue.put(None)
    processes = [context.Process(target=_worker, args=(queue, run.pk)) for _ in range(workers)]
    for process in processes:
        process.start()
    for process in processes:
        process.join()
    elapsed = time.perf_counter() - started
    run.refresh_from_db()
    if run.failed or run.done != run.total:
        raise RuntimeError(
            f"bill run incomplete: {run.done}/{run.total}, {run.failed} failed: {run.error[:500]}"
        )
    return elapsed, Invoice.objects.filter(issued_on=DAY).count()


def copy_floor(lines: int) -> float:
    """COPY ``lines`` invoice-line rows into a table shaped like invoicing_invoiceline (no indexes
    or foreign keys to check: the floor)."""
    from django.db import connection

    buffer = io.StringIO()
    for i in range(lines):
        buffer.write(
            f"{i + 1}\t{i // 5 + 1}\t\\N\t\\N\trenewal\tUC-BUSINESS-yearly\tUc-Business, renewal\t120.000000\t"
            f"3.000000\t365\t365\t2026-01-10\t2027-01-10\t360.000000\trenewal:{i}:2026-01-10\t{i % 5}\n"
        )
    data = buffer.getvalue()
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_line_floor")
        cursor.execute(
            "CREATE UNLOGGED TABLE bench_line_floor (id bigint, invoice_id bigint, pbx_id bigint, subscription_id bigint, "
            "kind varchar(20), product_code varchar(80), description varchar(300), unit_price numeric(18,6), "
            "quantity numeric(18,6), days_charged int, days_in_term int, period_start date, period_end date, "
            "amount numeric(18,6), charge_key varchar(160), position int)"
        )
        cursor.execute("ALTER TABLE bench_line_floor SET LOGGED")
        started = time.perf_counter()
        with cursor.copy("COPY bench_line_floor FROM STDIN") as copy:
            copy.write(data)
        elapsed = time.perf_counter() - started
        cursor.execute("DROP TABLE bench_line_floor")
    return elapsed


def bench_billrun_run(
    *, pbxs: int, runs: int, workers: int, chunk_size: int, database_url: str, say: Callable[[str], None]
) -> BillRunBench:
    os.environ["DATABASE_URL"] = database_url
    os.environ.pop("CELERY_BROKER_URL", None)
    recreate_database(database_url)
    from pbxportal.cli import setup_django

    setup_django()
    from django.conf import settings
    from django.core.management import call_command

    settings.INVOICE_MAIL_ON_ISSUE = False

    say(f"scratch database {database_url.rpartition('/')[2]}: migrate")
    call_command("migrate", interactive=False, verbosity=0)
    started = time.perf_counter()
    seed(pbxs, say)
    say(f"seeded in {time.perf_counter() - started:.1f} s")
    timings, copies = [], []
    for attempt in range(runs):
        reset()
        elapsed, invoices = bill_run(workers, chunk_size)
        if invoices != pbxs:
            raise RuntimeError(f"expected {pbxs} invoices, got {invoices}")
        copies.append(copy_floor(pbxs * len(PROFILES)))
        say(
            f"run {attempt + 1}: {elapsed:.2f} s, {pbxs / elapsed:,.0f} renewals/s; COPY floor {copies[-1]:.2f} s"
        )
        timings.append(elapsed)
    return BillRunBench(pbxs=pbxs, lines=pbxs * len(PROFILES), runs=timings, copies=copies, workers=workers)
