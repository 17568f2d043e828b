"""The REST API (R-API-1): one NinjaAPI under /api/v1/, routers discovered per app, one error shape.

Each app's ``api.py`` exposes ``router`` (and may set ``API_PREFIX``); ``build_api`` mounts them,
so a new endpoint joins the OpenAPI document, the auth and the tenancy test without a central list.
"""

from __future__ import annotations

import importlib
import logging
from typing import Any

from django.apps import apps
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import APIKeyCookie, HttpBearer

from pbxportal.common.actor import Actor
from pbxportal.common.errors import ApplicationError, error_body
from pbxportal.common.failures import error_for_exception

logger = logging.getLogger(__name__)


class TokenAuth(HttpBearer):
    """Partner integrations: ``Authorization: Bearer <token>``, tokens stored hashed."""

    openapi_description = (
        "An API token created in the portal (API tokens page): a partner user's, or a staff service "
        "token; read-only tokens are refused on writes (403 read_only_token)."
    )

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        from pbxportal.accounts.services import api_token_authenticate

        user = api_token_authenticate(token=token, method=request.method or "GET")
        if user is None:
            return None
        request.actor = Actor(user=user, via_token=True)  # type: ignore[attr-defined]
        return user


class PortalSessionAuth(APIKeyCookie):
    """The portal's own pages: the Django session, with CSRF on unsafe methods."""

    param_name = "sessionid"

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not user.is_active:
            return None
        request.actor = Actor(user=user)  # type: ignore[attr-defined]
        return user


def actor_of(request: HttpRequest) -> Actor:
    actor = getattr(request, "actor", None)
    if actor is None:
        raise AuthenticationError()
    return actor


def _json(api: NinjaAPI, request: HttpRequest, body: dict[str, Any], status: int) -> HttpResponse:
    return api.create_response(request, body, status=status)


def _fields_of(errors: list[dict[str, Any]]) -> dict[str, str]:
    fields: dict[str, str] = {}
    for err in errors:
        loc = [
            str(p)
            for p in err.get("loc", [])
            if p not in ("body", "query", "path", "header", "payload", "form")
        ]
        fields[".".join(loc) or "body"] = str(err.get("msg", "invalid"))
    return fields


def build_api() -> NinjaAPI:
    api = NinjaAPI(
        title="pbxportal API",
        version="1",
        description="Partner and PBX-agent API of pbxportal. Errors: "
        '`{"error": {"code", "message", "rule", "fields"}}`. POSTs accept an `Idempotency-Key` header.',
        urls_namespace="api-v1",
        auth=[TokenAuth(), PortalSessionAuth()],
        docs_url="/docs",
    )

    @api.exception_handler(ApplicationError)
    def application_error(request: HttpRequest, exc: ApplicationError) -> HttpResponse:
        return _json(api, request, exc.as_dict(), exc.status)

    @api.exception_handler(NinjaValidationError)
    def validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
        fields = _fields_of(exc.errors)
        message = "Invalid input: " + "; ".join(f"{k}: {v}" for k, v in fields.items())
        return _json(api, request, error_body("validation_error", message, fields=fields), 422)

    @api.exception_handler(DjangoValidationError)
    def django_validation_error(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
        fields = {k: "; ".join(v) for k, v in exc.message_dict.items()} if hasattr(exc, "error_dict") else {}
        return _json(
            api, request, error_body("validation_error", "; ".join(exc.messages), fields=fields), 422
        )

    @api.exception_handler(AuthenticationError)
    def auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        return _json(
            api,
            request,
            error_body("unauthorized", "Authentication required: a bearer API token or a portal session."),
            401,
        )

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        return _json(api, request, error_body("http_error", str(exc)), exc.status_code)

    @api.exception_handler(Http404)
    def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return _json(api, request, error_body("not_found", "Not found."), 404)

    @api.exception_handler(PermissionDenied)
    def forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
        return _json(api, request, error_body("forbidden", str(exc) or "Forbidden."), 403)

    @api.exception_handler(Exception)
    def any_error(request: HttpRequest, exc: Exception) -> HttpResponse:
        # Database and decoding errors a client's input can cause are 4xx, an unreachable
        # database a 503, anything else a 500 (logged), all in the error shape (R-API-1).
        status, body = error_for_exception(exc)
        if status >= 500:
            logger.error("API request failed: %s %s", request.method, request.path, exc_info=exc)
        return _json(api, request, body, status)

    for config in apps.get_app_configs():
        if not config.name.startswith("pbxportal."):
            continue
        try:
            module = importlib.import_module(f"{config.name}.api")
        except ModuleNotFoundError as exc:
            if exc.name != f"{config.name}.api":
                raise
            continue
        router = getattr(module, "router", None)
        if router is not None:
            api.add_router(getattr(module, "API_PREFIX", config.label), router)
    return api
