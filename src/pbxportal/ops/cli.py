"""``pbxportal check-config``: validate the environment before a production start.

Exit 0 when nothing fails (warnings allowed), 2 when the configuration is refused. It must not
show a traceback: the settings module raises ImproperlyConfigured at import for a production
start with the development secret, so loading Django is itself the first check.
"""

from __future__ import annotations

import argparse
import os
import sys

from pbxportal.ops.checks import DEFAULT_TIMEOUT

REFUSED = 2


def _print(level: str, subject: str, message: str) -> None:
    print(f"{level:<4}  {subject}: {message}", flush=True)


def check_config(args: argparse.Namespace) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pbxportal.config.settings")
    from django.core.exceptions import ImproperlyConfigured

    try:
        import django

        django.setup()
    except ImproperlyConfigured as exc:
        for line in str(exc).splitlines() or [str(exc)]:  # one line per refused setting
            subject, _, message = line.partition(": ")
            if not message:
                subject, message = "settings", line
            _print("FAIL", subject, message)
        print("check-config: configuration refused", file=sys.stderr)
        return REFUSED

    from pbxportal.ops.checks import configuration_findings

    failed = 0
    for finding in configuration_findings(timeout=args.timeout):
        _print(finding.level, finding.subject, finding.message)
        failed += finding.level == "FAIL"
    if failed:
        print(f"check-config: configuration refused ({failed} problem(s))", file=sys.stderr)
        return REFUSED
    print("check-config: OK")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "check-config",
        help="validate the environment for a production start (secret, DEBUG, database, broker)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        help=f"seconds to wait for the database and the broker (default {DEFAULT_TIMEOUT})",
    )
    parser.set_defaults(handler=check_config)
