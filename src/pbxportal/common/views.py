"""Helpers for the server-rendered pages: the actor of a request, refusals shown on the page."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Page, Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext

from pbxportal.common.actor import Actor
from pbxportal.common.errors import ApplicationError
from pbxportal.common.plain import plain_message
from pbxportal.common.schemas import INT_MAX

_ASCII_DIGITS = re.compile(r"[0-9]{1,12}")
View = Callable[..., HttpResponse]
PAGE_SIZE = 25


def portal_view(view: View) -> View:
    """A page for a logged-in user: sets ``request.actor``; an ApplicationError renders an error page
    with its status and rule (NotFound is a 404 page, so another partner's ids reveal nothing)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        request.actor = Actor(user=request.user)  # type: ignore[attr-defined]
        try:
            return view(request, *args, **kwargs)
        except ApplicationError as exc:
            return render(request, "common/error.html", {"error": exc}, status=exc.status)

    return wrapper


def staff_view(view: View) -> View:
    @wraps(view)
    def inner(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        actor_of(request).require_staff()
        return view(request, *args, **kwargs)

    return portal_view(inner)


def actor_of(request: HttpRequest) -> Actor:
    return request.actor  # type: ignore[attr-defined]


def paginate(request: HttpRequest, items: Any, per_page: int = PAGE_SIZE) -> Page:
    return Paginator(items, per_page).get_page(request.GET.get("page"))


def form_int(value: str | None, *, field: str, default: int | None = None) -> int:
    """A whole number from a page form: ASCII digits only (``int()`` also takes "١٢" or spaces),
    at most INT_MAX, so no page passes the database a number it cannot hold (R-API-1 for pages).
    An absent or empty value is ``default``; otherwise a refusal naming ``field``."""
    text = (value or "").strip()
    if not text and default is not None:
        return default
    if not _ASCII_DIGITS.fullmatch(text) or int(text) > INT_MAX:
        raise ApplicationError(f"{field}: a whole number is required.", fields={field: "not a whole number"})
    return int(text)


def form_error(form: Any, exc: ApplicationError) -> None:
    """Show a service refusal on the form: on the named field where there is one, in words (the
    field's key not repeated, the rule id once at the end)."""
    field = next((f for f in exc.fields if f in form.fields), None)
    text = plain_message(exc, keep_field=field is None)
    rule = " " + gettext("(rule %(rule)s)") % {"rule": exc.rule} if exc.rule else ""
    form.add_error(field, text + rule)
