"""/api/docs in a real browser under the portal's Content-Security-Policy (issue 13): Swagger UI
comes from the portal's static files and renders the API's operations with no policy violation."""

from __future__ import annotations

from playwright.sync_api import Page, expect


def test_swagger_ui_renders_the_operations_under_the_csp(page: Page) -> None:
    violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    outside: list[str] = []
    page.on(
        "request",
        lambda request: (
            outside.append(request.url)
            if "127.0.0.1" not in request.url
            and "localhost" not in request.url
            and not request.url.startswith("data:")
            else None
        ),
    )
    # when the API docs are opened
    response = page.goto("/api/docs")
    # then the page has the policy, Swagger UI lists the operations, and nothing was blocked or fetched elsewhere
    assert response is not None and "script-src 'self'" in response.headers["content-security-policy"]
    expect(page.locator(".opblock").first).to_be_visible()
    assert page.locator(".opblock").count() > 50
    assert violations == [] and outside == []
