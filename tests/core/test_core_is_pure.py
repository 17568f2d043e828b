"""The billing core is pure Python: no Django, no other pbxportal app (STYLE.md, R-CO-4).

The preview and the real change share the core's functions; keeping the core free of the
framework keeps those functions testable in milliseconds and callable from anywhere.
Every .py file under src/pbxportal/core/ is checked, subpackages included.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import pbxportal.core

REPO = Path(__file__).resolve().parents[2]
SRC = REPO / "src"
CORE = SRC / "pbxportal" / "core"

# Django itself and packages that import it when imported.
_FRAMEWORK_TOP_LEVEL = frozenset({"django", "ninja", "rest_framework"})


def _is_forbidden(module: str) -> bool:
    top = module.split(".")[0]
    if top in _FRAMEWORK_TOP_LEVEL or top.startswith("django_"):
        return True
    inside_pbxportal = module == "pbxportal" or module.startswith("pbxportal.")
    inside_core = module == "pbxportal.core" or module.startswith("pbxportal.core.")
    return inside_pbxportal and not inside_core


def _resolve_relative(module: str | None, level: int, package: str) -> str | None:
    # `from ..x import y` in package a.b.c is a.b.x; None when it climbs above the top level.
    parts = package.split(".")
    if level - 1 >= len(parts):
        return None
    base = parts[: len(parts) - (level - 1)]
    return ".".join([*base, module] if module else base)


def forbidden_imports(source: str, module: str, is_package: bool = False) -> list[tuple[int, str]]:
    """(line, imported module) for each import that the core must not make.

    ``module`` is the dotted name of the file (to resolve relative imports); string literals
    passed to ``importlib.import_module`` or ``__import__`` count as imports too.
    """
    package = module if is_package else module.rpartition(".")[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names if _is_forbidden(alias.name)]
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                base: str | None = node.module or ""
            else:
                base = _resolve_relative(node.module, node.level, package)
            if base is None:
                found.append((node.lineno, "." * node.level + (node.module or "")))
                continue
            # `from pbxportal import accounts` imports pbxportal.accounts: check each name.
            names = [base if alias.name == "*" else f"{base}.{alias.name}" for alias in node.names]
            found += [(node.lineno, name) for name in names if _is_forbidden(name)]
        elif (
            isinstance(node, ast.Call)
            and (
                (isinstance(node.func, ast.Name) and node.func.id in {"__import__", "import_module"})
                or (isinstance(node.func, ast.Attribute) and node.func.attr == "import_module")
            )
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
            and _is_forbidden(node.args[0].value)
        ):
            found.append((node.lineno, node.args[0].value))
    return found


def _core_files() -> list[Path]:
    return sorted(CORE.rglob("*.py"))


def _module_name(path: Path) -> tuple[str, bool]:
    parts = path.relative_to(SRC).with_suffix("").parts
    if parts[-1] == "__init__":
        return ".".join(parts[:-1]), True
    return ".".join(parts), False


def test_the_checked_tree_is_the_imported_package() -> None:
    # Guards against walking a stale copy: the tests import the core from this tree.
    assert Path(pbxportal.core.__file__).resolve().parent == CORE
    assert {"money.py", "periods.py", "proration.py"} <= {p.name for p in _core_files()}


def test_core_imports_neither_django_nor_other_pbxportal_apps() -> None:
    # given every Python file of the core, subpackages included
    violations = []
    for path in _core_files():
        module, is_package = _module_name(path)
        # when reading its imports / then none is Django or a pbxportal app outside the core
        violations += [
            f"{path.relative_to(REPO)}:{line}: imports {name}"
            for line, name in forbidden_imports(path.read_text(encoding="utf-8"), module, is_package)
        ]
    assert not violations, "the core must stay pure Python:\n" + "\n".join(violations)


def test_importing_the_core_loads_no_django() -> None:
    # Catches what the source check cannot: a third-party import that pulls Django in.
    script = (
        "import pkgutil, importlib, sys\n"
        "import pbxportal.core as core\n"
        "for info in pkgutil.walk_packages(core.__path__, 'pbxportal.core.'):\n"
        "    importlib.import_module(info.name)\n"
        "print(sorted(m for m in sys.modules if m == 'django' or m.startswith('django.')"
        " or (m.startswith('pbxportal.') and not m.startswith('pbxportal.core'))))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False, cwd=REPO, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]", f"importing the core loaded {result.stdout.strip()}"


# -- the checker itself --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import django", [(1, "django")]),
        ("import os\nimport django.db.models as m", [(2, "django.db.models")]),
        ("from django.conf import settings", [(1, "django.conf.settings")]),
        ("from django import forms", [(1, "django.forms")]),
        ("import ninja", [(1, "ninja")]),
        ("import django_countries", [(1, "django_countries")]),
        ("from pbxportal.accounts.models import Partner", [(1, "pbxportal.accounts.models.Partner")]),
        ("from pbxportal import accounts", [(1, "pbxportal.accounts")]),
        ("import pbxportal.config.settings", [(1, "pbxportal.config.settings")]),
        ("from ... import catalog", [(1, "pbxportal.catalog")]),
        ("from ...pbx import services", [(1, "pbxportal.pbx.services")]),
        ("from ..... import x", [(1, ".....")]),
        ("importlib.import_module('django.conf')", [(1, "django.conf")]),
        ("__import__('django')", [(1, "django")]),
        ("def f():\n    import django\n", [(2, "django")]),
        ("try:\n    import django\nexcept ImportError:\n    pass\n", [(2, "django")]),
    ],
)
def test_checker_reports_forbidden_imports_with_their_line(
    source: str, expected: list[tuple[int, str]]
) -> None:
    # given a (hypothetical) core/rating/tariffs.py with this source
    assert forbidden_imports(source, "pbxportal.core.rating.tariffs") == expected


@pytest.mark.parametrize(
    "source",
    [
        "import decimal\nfrom datetime import date",
        "import pycountry\nfrom dateutil.relativedelta import relativedelta",
        "from pbxportal.core.money import Money",
        "from pbxportal.core import periods",
        "from pbxportal import core",
        "from . import destinations",
        "from ..money import Money",
        "from .. import proration",
        "import djangoish",
        "importlib.import_module(name)",
    ],
)
def test_checker_allows_stdlib_third_party_and_core_imports(source: str) -> None:
    assert forbidden_imports(source, "pbxportal.core.rating.tariffs") == []


def test_checker_resolves_relative_imports_of_a_package_init() -> None:
    # In core/rating/__init__.py, `..` is pbxportal.core, not pbxportal.
    assert forbidden_imports("from .. import money", "pbxportal.core.rating", is_package=True) == []
    assert forbidden_imports("from ... import pbx", "pbxportal.core.rating", is_package=True) == [
        (1, "pbxportal.pbx")
    ]
