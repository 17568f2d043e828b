"""Staff page: partners with overdue invoices, their day count and stage (R-INV-5)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from pbxportal.common.timeutil import vendor_today
from pbxportal.common.views import actor_of, staff_view
from pbxportal.overdue.policy import policy
from pbxportal.overdue.selectors import overdue_list


@staff_view
def staff_list(request: HttpRequest) -> HttpResponse:
    today = vendor_today()
    return render(
        request,
        "overdue/staff_list.html",
        {"rows": overdue_list(actor=actor_of(request), today=today), "policy": policy(), "today": today},
    )
