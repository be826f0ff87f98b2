"""The package's house rules: a tree that tells the architecture, layers that point down,
no import cycles, no reaching for another module's private names (docs/ARCHITECTURE.md)."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "automod"


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def test_at_most_eight_modules_sit_directly_under_automod():
    top = sorted(p.name for p in PACKAGE.glob("*.py") if p.name not in ("__init__.py", "__main__.py"))
    assert len(top) <= 8, top


def test_the_import_layers_hold():
    """The contracts in pyproject.toml ([tool.importlinter]), as CI runs them."""
    linter = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(linter), "--config", str(ROOT / "pyproject.toml")], cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_no_import_cycle_anywhere_in_the_package():
    """Counting imports inside functions and under TYPE_CHECKING: a cycle is a cycle."""
    graph = grimp.build_graph("automod", exclude_type_checking_imports=False)
    cycles = []
    for importer in sorted(graph.modules):
        for imported in sorted(graph.find_modules_directly_imported_by(importer)):
            if imported == importer or imported.startswith(importer + ".") or importer.startswith(imported + "."):
                continue  # a package and its own modules (re-exports) are one unit
            chain = graph.find_shortest_chain(importer=imported, imported=importer)
            if chain:
                cycles.append(" -> ".join((importer, *chain)))
    assert not cycles, "\n".join(cycles)


def _private_reaches(tree: ast.AST, here: str) -> list[str]:
    found = []
    module_aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("automod"):
            for alias in node.names:
                if alias.name.startswith("_") and not alias.name.startswith("__"):
                    found.append(f"{here}: from {node.module} import {alias.name}")
                module_aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("automod"):
                    module_aliases[alias.asname or alias.name.split(".")[0]] = alias.name
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                and node.value.id in module_aliases and node.attr.startswith("_")
                and not node.attr.startswith("__")):
            target = module_aliases[node.value.id]
            if target != here:
                found.append(f"{here}: {node.value.id}.{node.attr} ({target})")
    return found


def test_no_module_imports_or_reads_another_modules_private_names():
    found = []
    for name, path in _modules().items():
        found += _private_reaches(ast.parse(path.read_text(encoding="utf-8")), name)
    # Every test file, in every subfolder (tests/<package>/, tests/support/), and every benchmark.
    for path in sorted([*(ROOT / "tests").rglob("*.py"), *(ROOT / "benchmarks").rglob("*.py")]):
        found += _private_reaches(ast.parse(path.read_text(encoding="utf-8")), path.relative_to(ROOT).as_posix())
    assert not found, "\n".join(found)


def _faces() -> dict[str, set[str]]:
    """Each package's face: the names its ``__init__`` lists in ``__all__``."""
    faces = {}
    for name, path in _modules().items():
        if path.name == "__init__.py":
            names: set[str] = set()
            for node in ast.parse(path.read_text(encoding="utf-8")).body:
                if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__"
                                                        for t in node.targets):
                    names |= {e.value for e in getattr(node.value, "elts", []) if isinstance(e, ast.Constant)}
            faces[name] = names
    return faces


def _submodule_reaches(tree: ast.AST, here: str, faces: dict[str, set[str]], modules: set[str]) -> list[str]:
    """Imports of another package's modules instead of its face (a subpackage is a package of its own)."""
    def package_of(module: str) -> str:
        return module if module in faces else module.rpartition(".")[0]

    def outside(package: str) -> bool:
        return package != "automod" and here != package and not here.startswith(package + ".")

    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("automod."):
            module = node.module or ""
            if module not in faces and outside(package_of(module)):
                found.append(f"{here}: from {module} import {', '.join(a.name for a in node.names)}")
            elif module in faces and outside(module):
                found += [f"{here}: from {module} import {a.name} (a module)" for a in node.names
                          if f"{module}.{a.name}" in modules and f"{module}.{a.name}" not in faces
                          and a.name not in faces[module]]
        elif isinstance(node, ast.Import):
            found += [f"{here}: import {a.name}" for a in node.names
                      if a.name.startswith("automod.") and a.name not in faces and outside(package_of(a.name))]
    return found


def test_other_packages_import_a_package_only_through_its_face():
    """Issue 25: a package's names are used through its ``__init__`` (``__all__``), never its modules.

    Tests and benchmarks may import a module's internals when they test that module."""
    faces, modules = _faces(), _modules()
    found = []
    for name, path in modules.items():
        found += _submodule_reaches(ast.parse(path.read_text(encoding="utf-8")), name, faces, set(modules))
    assert not found, "\n".join(found)


def test_every_package_has_a_face():
    missing = [name for name, names in _faces().items() if name != "automod" and not names]
    assert not missing, missing


def test_the_architecture_document_names_every_module():
    """Each module by its path (``automod/onwiki/gateway.py``, ``onwiki/gateway.py``) or dotted name."""
    doc = (ROOT / "docs/ARCHITECTURE.md").read_text(encoding="utf-8")
    missing = []
    for name, path in sorted(_modules().items()):
        rel = path.relative_to(ROOT).as_posix()
        short = name.removeprefix("automod.")
        forms = ([f"{rel.removesuffix('__init__.py')}", f"{rel.removesuffix('__init__.py').removeprefix('automod/')}"]
                 if path.name == "__init__.py" else
                 [rel, rel.removeprefix("automod/"), name, short])
        if not any(re.search(rf"(?<![\w./]){re.escape(form)}" + ("" if form.endswith("/") else r"(?![\w/])"), doc)
                   for form in forms if form):
            missing.append(rel)
    assert not missing, missing


def test_the_moderator_passes_typed_records_not_string_keyed_dicts():
    text = (PACKAGE / "moderation/moderator.py").read_text(encoding="utf-8")
    assert not re.search(r"dict\[str,\s*Any\]", text)


def test_the_architecture_document_describes_every_package():
    doc = (ROOT / "docs/ARCHITECTURE.md").read_text(encoding="utf-8")
    packages = sorted(p.parent.relative_to(ROOT).as_posix() for p in PACKAGE.rglob("__init__.py")
                      if p.parent.parent == PACKAGE)
    missing = [pkg for pkg in packages if f"`{pkg}/`" not in doc]
    assert not missing, missing
    for module in ("records.py", "errors.py", "settings.py"):
        assert f"`automod/{module}`" in doc, module


def test_nothing_cites_a_design_document_outside_the_repository():
    offenders = []
    for path in [*PACKAGE.rglob("*.py"), *(ROOT / "config").iterdir(), ROOT / "README.md",
                 *(PACKAGE / "schemas").glob("*.json")]:
        if path.is_file() and "DESIGN.md" in path.read_text(encoding="utf-8", errors="replace"):
            offenders.append(str(path.relative_to(ROOT)))
    assert not offenders, offenders
