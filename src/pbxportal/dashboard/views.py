"""The landing pages (R-UI-1): thin, the reads are in ``dashboard.selectors``."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext

from pbxportal.common.timeutil import vendor_today
from pbxportal.common.views import actor_of, portal_view, staff_view
from pbxportal.dashboard import selectors


@portal_view
def partner_dashboard(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    if actor.is_staff:
        return redirect("dashboard:staff")
    board = selectors.partner_dashboard(actor=actor, today=vendor_today())
    chart = {
        "type": "bar",
        "labels": [label for label, _ in board.invoices_by_month],
        "series": [
            {
                "label": gettext("Invoiced (%(currency)s)") % {"currency": board.balance.currency},
                "data": [str(t) for _, t in board.invoices_by_month],
            }
        ],
    }
    return render(request, "dashboard/partner.html", {"board": board, "invoice_chart": chart})


@staff_view
def staff_dashboard(request: HttpRequest) -> HttpResponse:
    board = selectors.staff_dashboard(actor=actor_of(request), today=vendor_today())
    return render(request, "dashboard/staff.html", {"board": board})
