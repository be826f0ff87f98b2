"""The tests mirror the code (issue 25, item 6): test modules live in a folder per package,
share helpers only through ``tests/support`` and fixtures only through conftest.py, and no
test module imports another (a fixture imported by name runs twice and hides where it lives)."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def _imported_modules(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _is_test_module(name: str) -> bool:
    return any(part.startswith("test_") or part == "conftest" for part in name.split("."))


def test_no_test_module_imports_another_test_module() -> None:
    offenders = []
    for path in sorted(TESTS.rglob("*.py")):
        for name in sorted(_imported_modules(path)):
            if _is_test_module(name):
                offenders.append(f"{path.relative_to(TESTS)}: imports {name}")
    assert offenders == [], "share through tests/support or a conftest.py instead:\n" + "\n".join(offenders)


def test_test_modules_sit_in_a_folder_per_package() -> None:
    top_level = sorted(p.name for p in TESTS.glob("test_*.py"))
    assert top_level == ["test_package_layout.py", "test_test_layout.py"]  # checks of the whole tree
    folders = {p.parent.name for p in TESTS.rglob("test_*.py") if p.parent != TESTS}
    packages = {p.name for p in (TESTS.parent / "automod").iterdir() if (p / "__init__.py").exists()}
    assert folders <= packages | {"settings"}, folders - packages  # settings.py is a module, not a package


def test_support_modules_are_not_test_modules() -> None:
    assert not list((TESTS / "support").glob("test_*.py"))
