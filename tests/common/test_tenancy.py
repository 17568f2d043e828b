"""R-TEN-1: a partner never sees another partner's data.

The walker discovers every API operation (from the OpenAPI document) and every page (from the
URL resolver), fills each path parameter with an object of partner B (tenancy_registry), calls it
as a user of partner A, and expects 404 (pages reserved for staff may answer 403).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from pbxportal.accounts.models import Customer, Partner, PartnerRole, StaffRole, User
from pbxportal.catalog.models import PriceBook
from pbxportal.common.actor import Actor
from pbxportal.common.tenancy import get_scoped, scoped, tenant_models
from pbxportal.config.urls import api
from tests.tenancy_registry import BUILDERS

PARAM = re.compile(r"{(\w+)}")
DJANGO_PARAM = re.compile(r"<(?:\w+:)?(\w+)>")
PASSWORD = "correct-horse-battery"
# Operations that take no partner object by design (the PBX agent uses its own credential, see its tests).
NOT_PARTNER_DATA = ("/api/v1/pbx-agent/",)
# Pages whose path parameter is a one-time secret mailed to a person, not a partner's object id
# (allauth's email confirmation and password reset links, partner-user invitations): their tests
# are in tests/accounts.
SECRET_LINK_PAGES = ("/confirm-email/", "/password/reset/key/", "/invitation/")
# Pages of the vendor's downloadable templates (issue 16 item 8): catalog data, the same for every
# partner, not a partner's object; their tests are in tests/catalog/test_document_templates.py.
SHARED_CATALOG_PAGES = ("/documents/",)


def _example(schema: dict[str, Any], components: dict[str, Any]) -> Any:
    if "$ref" in schema:
        return _example(components[schema["$ref"].split("/")[-1]], components)
    if "examples" in schema:
        return schema["examples"][0]
    if "default" in schema:
        return schema["default"]
    if "enum" in schema:
        return schema["enum"][0]
    if "anyOf" in schema:
        return _example(next(s for s in schema["anyOf"] if s.get("type") != "null"), components)
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        return {
            k: _example(v, components)
            for k, v in schema.get("properties", {}).items()
            if k in schema.get("required", [])
        }
    return {"string": "x", "integer": 1, "number": 1, "boolean": False, "array": []}.get(str(kind), "x")


def api_operations() -> list[tuple[str, str, dict[str, Any]]]:
    schema = api.get_openapi_schema()
    ops = []
    for path, methods in schema["paths"].items():
        if not PARAM.search(path) or path.startswith(NOT_PARTNER_DATA):
            continue
        for method, operation in methods.items():
            ops.append((method.upper(), path, operation))
    return ops


def page_routes() -> list[str]:
    routes: list[str] = []

    def walk(patterns: list[Any], prefix: str) -> None:
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern):
                route = prefix + str(p.pattern)
                if (
                    DJANGO_PARAM.search(route)
                    and not route.startswith("api/")
                    and not ("/" + route.lstrip("^")).startswith(SECRET_LINK_PAGES)
                    and not ("/" + route.lstrip("^")).startswith(SHARED_CATALOG_PAGES)
                ):
                    routes.append("/" + route)

    walk(get_resolver().url_patterns, "")
    return sorted(set(routes))


@pytest.fixture
def world(db: Any) -> dict[str, Any]:
    gold = PriceBook.objects.create(code="T-GOLD", name="Gold", type="gold", currency="EUR")
    silver = PriceBook.objects.create(code="T-SILVER", name="Silver", type="silver", currency="EUR")
    a = Partner.objects.create(name="A", code="a", country="IT", price_book=gold)
    b = Partner.objects.create(name="B", code="b", country="GB", price_book=silver)
    user_a = User.objects.create_user("a-admin", password=PASSWORD, partner=a, partner_role=PartnerRole.ADMIN)
    User.objects.create_user("b-admin", password=PASSWORD, partner=b, partner_role=PartnerRole.ADMIN)
    client = Client()
    client.force_login(user_a)
    return {"a": a, "b": b, "client": client}


def _fill(path: str, pattern: re.Pattern[str], victim: Partner) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        assert name in BUILDERS, f"path parameter {name!r} has no builder in tests/tenancy_registry.py"
        return str(BUILDERS[name](victim))

    return pattern.sub(value, path)


def test_the_walker_finds_routes_with_ids() -> None:
    # given the project's routes / then the walker sees both API operations and pages with ids
    assert any("{customer_id}" in path for _, path, _ in api_operations())
    assert "/customers/<int:customer_id>/" in page_routes()


def test_every_api_operation_answers_404_for_another_partners_ids(world: dict[str, Any]) -> None:
    components = api.get_openapi_schema().get("components", {}).get("schemas", {})
    failures = []
    for method, path, operation in api_operations():
        url = _fill(path, PARAM, world["b"])
        body = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
        payload = _example(body, components) if body else None
        response = world["client"].generic(
            method,
            url,
            data=b"" if payload is None else __import__("json").dumps(payload),
            content_type="application/json",
        )
        if response.status_code != 404:
            failures.append(f"{method} {url} -> {response.status_code} {response.content[:200]!r}")
    assert not failures, "\n".join(failures)


def test_every_page_answers_404_for_another_partners_ids(world: dict[str, Any]) -> None:
    failures = []
    for route in page_routes():
        url = _fill(route, DJANGO_PARAM, world["b"])
        seen = set()
        for method in ("get", "post"):
            response = getattr(world["client"], method)(url)
            # 405 (method not allowed) answers before any lookup, so it reveals nothing either.
            # A staff page (a "staff" segment: /staff/..., /payments/staff/...) may refuse with 403 first.
            allowed = {403, 404, 405} if "staff" in route.strip("/").split("/") else {404, 405}
            seen.add(response.status_code)
            if response.status_code not in allowed:
                failures.append(f"{method.upper()} {url} -> {response.status_code}")
        if seen == {405}:
            failures.append(f"{url}: neither GET nor POST reached the view")
    assert not failures, "\n".join(failures)


def test_partner_lists_hold_only_own_rows(world: dict[str, Any]) -> None:
    # given a customer of each partner
    Customer.objects.create(partner=world["a"], name="mine", country="IT")
    Customer.objects.create(partner=world["b"], name="theirs", country="GB")
    # when A lists customers through the API
    names = [c["name"] for c in world["client"].get("/api/v1/customers").json()["items"]]
    # then only A's
    assert names == ["mine"]


def test_every_tenant_model_is_scoped_per_partner_and_area_manager(world: dict[str, Any]) -> None:
    # given an area manager assigned to B only, and every model declaring a tenant path
    manager = User.objects.create_user("am", password=PASSWORD, staff_role=StaffRole.AREA_MANAGER)
    Partner.objects.filter(pk=world["b"].pk).update(area_manager=manager)
    customer_b = Customer.objects.create(partner=world["b"], name="theirs", country="GB")
    actor_a = Actor(user=User.objects.get(username="a-admin"))
    # then every tenant model can be scoped (its tenant_path resolves) ...
    for model in tenant_models():
        list(scoped(model, actor_a)[:1])
        list(scoped(model, Actor(user=manager))[:1])
    # ... and B's row is invisible to A but visible to B's area manager
    assert Customer in tenant_models()
    assert not scoped(Customer, actor_a).filter(pk=customer_b.pk).exists()
    assert get_scoped(Customer, Actor(user=manager), pk=customer_b.pk) == customer_b
    assert scoped(Customer, Actor(user=manager)).filter(partner=world["a"]).count() == 0
