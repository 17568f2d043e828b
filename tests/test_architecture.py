"""The layout holds (issue 11): the import contracts of pyproject.toml pass and would catch a
violation, the service modules stay small, and no two modules import each other except the
documented Celery task/service pair."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import grimp
import pytest
from importlinter import configuration
from importlinter.application import use_cases

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src" / "pbxportal"
MAX_SERVICE_LINES = 500
# A task module runs a service, and the service queues the task (a function-local import there).
ALLOWED_MUTUAL_IMPORTS = {frozenset({"pbxportal.pbx.services.lifecycle", "pbxportal.pbx.tasks"})}


def test_the_import_contracts_pass() -> None:
    configuration.configure()
    options = use_cases.read_user_options(config_filename=str(ROOT / "pyproject.toml"))
    ids = {contract.get("id") for contract in options.contracts_options}
    assert {"layers", "core-pure", "invoicing-no-pbx", "models-pbx", "models-invoicing"} <= ids
    assert use_cases.lint_imports(config_filename=str(ROOT / "pyproject.toml"), cache_dir=None, no_logo=True)


def test_the_contracts_fail_when_invoicing_imports_pbx(tmp_path: Path) -> None:
    # given a copy of the sources where an invoicing module imports from pbx
    shutil.copytree(SRC, tmp_path / "src" / "pbxportal", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    selectors = tmp_path / "src" / "pbxportal" / "invoicing" / "selectors.py"
    selectors.write_text(selectors.read_text() + "\nfrom pbxportal.pbx.models import Pbx  # noqa: E402\n")
    lint = Path(sys.executable).with_name("lint-imports")
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "src")}

    # when import-linter checks it with the project's contracts
    result = subprocess.run(
        [str(lint), "--no-cache", "pyproject.toml"], cwd=tmp_path, env=env, capture_output=True, text=True
    )

    # then the invoicing contract is broken, naming the import
    assert result.returncode != 0, result.stdout
    assert "invoicing (the documents app) imports nothing from pbx BROKEN" in result.stdout
    assert "pbxportal.invoicing.selectors -> pbxportal.pbx.models" in result.stdout
    # and the unchanged copy passes, so it was the added import that broke it
    selectors.write_text(
        selectors.read_text().replace("\nfrom pbxportal.pbx.models import Pbx  # noqa: E402\n", "")
    )
    clean = subprocess.run(
        [str(lint), "--no-cache", "pyproject.toml"], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert clean.returncode == 0, clean.stdout


def _service_modules() -> list[Path]:
    modules = [path for path in SRC.glob("*/services.py")]
    modules += [path for path in SRC.glob("*/services/*.py")]
    return sorted(modules)


def test_no_service_module_is_over_500_lines() -> None:
    modules = _service_modules()
    assert SRC / "pbx" / "services" / "changes.py" in modules
    too_long = {
        str(path.relative_to(SRC)): n
        for path in modules
        if (n := len(path.read_text().splitlines())) > MAX_SERVICE_LINES
    }
    assert too_long == {}


@pytest.mark.parametrize("allowed", [ALLOWED_MUTUAL_IMPORTS])
def test_no_two_modules_import_each_other_except_the_celery_pair(allowed: set[frozenset[str]]) -> None:
    graph = grimp.build_graph("pbxportal", cache_dir=None)
    mutual = {
        frozenset({a, b})
        for a in graph.modules
        for b in graph.find_modules_directly_imported_by(a)
        if a in graph.find_modules_directly_imported_by(b)
    }
    assert mutual <= allowed, sorted(sorted(pair) for pair in mutual - allowed)
    # the documented pair really is a task module and the service it runs
    for pair in allowed:
        assert any(name.endswith(".tasks") for name in pair)
