"""The page language (issue 16 item 9, docs/ui.md "Languages").

Pages follow the language switch (Django's ``set_language`` view, remembered in the
``LANGUAGE_COOKIE_NAME`` cookie), else the browser's ``Accept-Language``, else English. The API
answers in English whatever the request says: its messages are read by programs and quoted in
support tickets, and its error shape (R-API-1) stays the same.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponseBase
from django.middleware.locale import LocaleMiddleware
from django.utils import translation

API_PREFIX = "/api/"


class PortalLocaleMiddleware(LocaleMiddleware):
    def process_request(self, request: HttpRequest) -> None:
        if request.path.startswith(API_PREFIX):
            translation.activate("en")
            request.LANGUAGE_CODE = "en"
            return
        super().process_request(request)

    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        if request.path.startswith(API_PREFIX):
            return response
        return super().process_response(request, response)
