"""Charts where partners would rather look than read (R-UI-1, issue 16): Chart.js served from the
project's static files draws the numbers the page also lists."""

from __future__ import annotations

from datetime import datetime, time
from decimal import Decimal

from django.urls import reverse
from playwright.sync_api import Page, expect

from pbxportal.common.timeutil import vendor_today, vendor_tz
from pbxportal.voice.models import CallRecord, UsageMonth
from tests.e2e.conftest import Login
from tests.pbx.builders import World


def _dataset(page: Page, canvas: str, index: int = 0) -> list[float]:
    page.wait_for_function(f"document.getElementById('{canvas}').chart !== undefined")
    return list(page.evaluate(f"document.getElementById('{canvas}').chart.data.datasets[{index}].data"))


def test_the_dashboard_charts_the_amount_invoiced_per_month(page: Page, login: Login) -> None:
    # given a partner whose five-year PBX was invoiced 6,000.00 EUR this month
    world = World()
    world.pbx(term="five_year", start=vendor_today(), licences={"UC-BUSINESS": 10})
    login(page, "p-admin", "x" * 12)
    # then the dashboard's chart has 12 months, this month's bar at 6000, the others at 0
    data = _dataset(page, "invoice-chart")
    assert len(data) == 12
    assert data[-1] == 6000 and sum(data[:-1]) == 0
    expect(page.locator("#invoices-per-month table")).to_contain_text("6,000.00 EUR")


def test_the_usage_page_charts_the_allowance_by_day_and_the_cost_by_area(page: Page, login: Login) -> None:
    # given a PBX with a 1000-minute pool this month, 10 free minutes used on day 1 and 5 on day 2,
    # and 1.50 EUR of CTA3 calls
    world = World()
    pbx = world.pbx(start=vendor_today())
    month = vendor_today().replace(day=1)
    UsageMonth.objects.create(
        pbx=pbx,
        month=month,
        bundle="CTA1",
        allowance_seconds=60_000,
        allowance_used=900,
        amount=Decimal("1.5"),
    )
    now = datetime.now(tz=vendor_tz())

    def call(identity: str, day: int, free: int, area: str, amount: str) -> None:
        CallRecord.objects.create(
            pbx=pbx,
            month=month,
            identity=identity,
            start=datetime.combine(month.replace(day=day), time(10), tzinfo=vendor_tz()),
            callee="+390212345678",
            billsec=free or 60,
            area=area,
            billed_seconds=free or 60,
            free_seconds=free,
            amount=Decimal(amount),
            rated_at=now,
        )

    call("a", 1, 600, "CTA1", "0")
    call("b", 2, 300, "CTA1", "0")
    call("c", 2, 0, "CTA3", "1.5")
    login(page, "p-admin", "x" * 12)
    page.goto(reverse("voice:usage", args=[pbx.pk]))
    # then the allowance chart climbs 10 then 15 minutes under a 1000-minute pool line
    used = _dataset(page, "allowance-chart")
    assert used[:3] == [10, 15, 15] and used[-1] == 15
    assert set(_dataset(page, "allowance-chart", 1)) == {1000}
    # and the cost chart has CTA3 at 1.5 and nothing elsewhere
    labels = page.evaluate("document.getElementById('area-chart').chart.data.labels")
    costs = dict(zip(labels, _dataset(page, "area-chart"), strict=True))
    assert costs["CTA3"] == 1.5 and sum(costs.values()) == 1.5
