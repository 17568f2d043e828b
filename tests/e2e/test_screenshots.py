"""Screenshots of the main pages for the README (issue 16 item 11), taken on the demo data of
``make run`` by the browser tests.

Each page is checked (it answered 200, its key element is shown) before its picture is written.
The pictures go to a temporary directory, so CI changes no file of the checkout; with
``PBXPORTAL_SCREENSHOTS=docs/screenshots`` they replace the README's pictures::

    PBXPORTAL_SCREENSHOTS=docs/screenshots .venv/bin/pytest tests/e2e/test_screenshots.py
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

from django.urls import reverse
from playwright.sync_api import Page, expect

from pbxportal.common.timeutil import vendor_today
from pbxportal.invoicing.models import Invoice
from pbxportal.pbx.models import Pbx
from tests.e2e.conftest import Login, log_out

SIZE = {"width": 1366, "height": 900}
PNG = b"\x89PNG\r\n\x1a\n"
# file name, who, address, what must be shown first (a CSS selector and its text)
PAGES = [
    ("dashboard.png", "alpha-admin", "/dashboard/", "h1", "Dashboard"),
    ("pbx-workspace.png", "alpha-admin", "pbx", "h1", "rossi-milano"),
    ("invoices.png", "alpha-admin", "/invoices/", "main table", "INV-"),
    ("usage.png", "alpha-admin", "usage", "#allowance-chart", ""),
    ("staff-dashboard.png", "admin", "staff", "h1", "Staff dashboard"),
    ("dashboard-it.png", "alpha-admin", "/dashboard/", "h1", "Cruscotto"),
]


def _target(tmp_path: Path) -> Path:
    wanted = os.environ.get("PBXPORTAL_SCREENSHOTS", "")
    target = Path(wanted) if wanted else tmp_path
    target.mkdir(parents=True, exist_ok=True)
    return target


def _address(where: str) -> str:
    milano = Pbx.objects.get(name="rossi-milano")
    last_month = vendor_today().replace(day=1) - timedelta(days=1)  # a whole month of demo calls
    pages = {
        "pbx": reverse("pbx:detail", args=[milano.pk]),
        "usage": f"{reverse('voice:usage', args=[milano.pk])}?month={last_month:%Y-%m}",
        "staff": reverse("dashboard:staff"),
    }
    return pages.get(where, where)


def test_the_main_pages_are_shot_for_the_readme(
    page: Page, login: Login, demo_data: dict[str, str], tmp_path: Path
) -> None:
    target = _target(tmp_path)
    assert Invoice.objects.filter(partner__code="alpha").count() >= 4  # the demo data has content
    page.set_viewport_size(SIZE)
    who = ""
    for name, username, where, selector, text in PAGES:
        if username != who:
            if who:
                log_out(page)
            login(page, username, demo_data[username])
            who = username
        if name.endswith("-it.png"):
            page.context.add_cookies([{"name": "pbxportal_language", "value": "it", "url": page.url}])
        response = page.goto(_address(where))
        # the page answered and shows what it is about
        assert response is not None and response.status == 200, where
        shown = page.locator(selector).first
        expect(shown).to_be_visible()
        if text:
            expect(shown).to_contain_text(text)
        if selector.endswith("-chart"):
            page.wait_for_function(f"document.querySelector('{selector}').chart !== undefined")
        path = target / name
        page.screenshot(path=str(path), full_page=True)
        # a PNG of the page was written
        data = path.read_bytes()
        assert data.startswith(PNG) and len(data) > 20_000, (name, len(data))
