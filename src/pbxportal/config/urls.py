"""URLs: the API under /api/v1/ (docs also at /api/docs), each app's pages from its ``urls.py``."""

import importlib
from functools import partial

from django.apps import apps
from django.http import HttpRequest, JsonResponse
from django.urls import include, path, re_path
from ninja.openapi.views import openapi_view

from pbxportal.common.api import build_api
from pbxportal.common.errors import error_body

api = build_api()
# The API answers in its error shape even for failures outside a view (R-API-1).
handler400 = "pbxportal.common.failures.handler400"
handler500 = "pbxportal.common.failures.handler500"

urlpatterns = [
    path("api/v1/", api.urls),
    path("api/docs", partial(openapi_view, api=api), name="api-docs"),
]

for _config in apps.get_app_configs():
    if not _config.name.startswith("pbxportal."):
        continue
    try:
        _module = importlib.import_module(f"{_config.name}.urls")
    except ModuleNotFoundError as _exc:
        if _exc.name != f"{_config.name}.urls":
            raise
        continue
    urlpatterns.append(path(getattr(_module, "URL_PREFIX", f"{_config.label}/"), include(_module)))


def _api_not_found(request: HttpRequest) -> JsonResponse:
    """An unknown API path answers in the API's error shape (R-API-1), not with an HTML page."""
    return JsonResponse(error_body("not_found", f"No API route at {request.path}."), status=404)


# The language switch of the top bar posts to Django's set_language view (docs/ui.md "Languages").
urlpatterns.append(path("i18n/", include("django.conf.urls.i18n")))

# django-allauth: password reset/change, email addresses, MFA (/2fa/); /login/ and /logout/ are
# matched first by accounts/urls.py (the same views, the portal's statuses).
urlpatterns.append(path("", include("allauth.urls")))

# Last, so it only catches what neither the API nor an app's pages matched.
urlpatterns.append(re_path(r"^api/", _api_not_found))
