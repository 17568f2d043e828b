"""The ``pbxportal`` command (R-CLI-1).

Subcommands register themselves in ``COMMANDS``; each app may add its own by exposing
``register(subparsers)`` in a ``cli.py`` module (see ``_app_commands``).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

Handler = Callable[[argparse.Namespace], int]


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pbxportal.config.settings")
    import django

    django.setup()


def _serve(args: argparse.Namespace) -> int:
    setup_django()
    from django.conf import settings
    from django.core.management import call_command

    Path(settings.DATA_DIR).mkdir(parents=True, exist_ok=True)
    call_command("migrate", interactive=False, verbosity=0)
    from pbxportal.demo.seed import database_is_empty, demo_logins, load_demo

    if args.demo and database_is_empty():
        if settings.PRODUCTION:
            print("Not loading demo data in production.", file=sys.stderr)
        else:
            print("Empty database: loading the demo data (invented prices, labelled demo).")
            load_demo()
    if args.demo and not settings.PRODUCTION:
        print("\nDemo logins (password in brackets):")
        for login in demo_logins():
            print(f"  {login.role:<45} {login.username}  [{login.password}]")
    print(
        f"\npbxportal on http://{args.host}:{args.port}/  (API docs: http://{args.host}:{args.port}/api/docs)\n",
        flush=True,
    )
    if settings.CELERY_TASK_ALWAYS_EAGER:
        _start_short_job_ticker()
        # No worker either: a portal upload's import runs in a thread of this process.
        from pbxportal.voice.services.imports import start_background_imports

        start_background_imports()
    call_command("runserver", f"{args.host}:{args.port}", use_reloader=False, use_threading=True)
    return 0


def _start_short_job_ticker(interval: float = 30.0) -> None:
    """Embedded mode has no Celery beat: a daemon thread runs the clock's short jobs (cloud
    activation about 3 minutes after creation, SSH windows closing on time) every ``interval`` s."""
    import threading

    from django.db import close_old_connections

    from pbxportal.clock.services import run_short

    def tick() -> None:
        stop = threading.Event()
        while not stop.wait(interval):
            try:
                run_short()
            except Exception as exc:  # keep ticking: the next run retries, the jobs are idempotent
                print(f"short jobs failed: {exc}", file=sys.stderr)
            finally:
                close_old_connections()

    threading.Thread(target=tick, name="short-jobs", daemon=True).start()


def _catalog_load(args: argparse.Namespace) -> int:
    setup_django()
    from pbxportal.catalog.loader import CatalogError, load_catalog

    try:
        summary = load_catalog(Path(args.directory))
    except CatalogError as exc:
        print(f"catalog load: {len(exc.issues)} problem(s), nothing loaded:", file=sys.stderr)
        for issue in exc.issues:
            print(f"  {args.directory.rstrip('/')}/{issue}", file=sys.stderr)
        return 2
    print(
        f"Loaded {summary.price_books} price books, {summary.products} products, {summary.plans} plans, "
        f"{summary.prices} prices, {summary.rates} destination rates, {summary.numbers} number requirements, "
        f"{summary.templates} document templates."
    )
    return 0


def _catalog_export(args: argparse.Namespace) -> int:
    setup_django()
    from pbxportal.catalog import export
    from pbxportal.catalog.models import PriceBook
    from pbxportal.catalog.selectors import price_items

    book = PriceBook.objects.filter(code=args.book).first()
    if book is None:
        codes = ", ".join(PriceBook.objects.values_list("code", flat=True)) or "none loaded"
        print(f"catalog export: --book {args.book!r} not found (books: {codes})", file=sys.stderr)
        return 2
    items = price_items(book=book)
    data = export.to_xlsx(items, title=book.code) if args.format == "xlsx" else export.to_csv(items)
    output = Path(args.output or f"price-book-{book.code}.{args.format}")
    output.write_bytes(data)
    print(f"Wrote {len(items)} priced items to {output}")
    return 0


def _migrate(args: argparse.Namespace) -> int:
    setup_django()
    from django.core.management import call_command

    call_command("migrate", interactive=False)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pbxportal", description="Partner portal and billing engine for a PBX vendor."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser(
        "serve", help="migrate, load the demo data on an empty database, print logins, run the portal"
    )
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--no-demo", dest="demo", action="store_false", help="do not load or print the demo data"
    )
    serve.set_defaults(handler=_serve)

    sub.add_parser("migrate", help="apply database migrations").set_defaults(handler=_migrate)

    catalog = sub.add_parser("catalog", help="load or export the catalog (R-CAT-1, R-CAT-4)")
    catalog_sub = catalog.add_subparsers(dest="catalog_command", required=True)
    load = catalog_sub.add_parser(
        "load", help="load a catalog directory (catalog.yaml, prices.csv, rates.csv) in one transaction"
    )
    load.add_argument("directory")
    load.set_defaults(handler=_catalog_load)
    exp = catalog_sub.add_parser("export", help="export one price book")
    exp.add_argument("--book", required=True, help="price book code, e.g. GOLD-EUR")
    exp.add_argument("--format", choices=["csv", "xlsx"], default="csv")
    exp.add_argument("--output", help="file to write (default price-book-BOOK.FORMAT)")
    exp.set_defaults(handler=_catalog_export)

    for module in _app_commands():
        module.register(sub)
    return parser


def _app_commands() -> list[ModuleType]:
    """Apps that add subcommands: a ``cli`` module with ``register(subparsers)``."""
    found: list[ModuleType] = []
    package = Path(__file__).parent
    for path in sorted(package.glob("*/cli.py")):
        found.append(importlib.import_module(f"pbxportal.{path.parent.name}.cli"))
    return found


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler = args.handler
    return handler(args)


if __name__ == "__main__":
    sys.exit(main())
