"""The layout that docs/architecture.md promises, checked on the code: no import cycle
anywhere in quizapp, no import inside a function body (but optional dependencies), and
the direction of dependencies between the service domains."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "quizapp"

# Imports allowed inside a function body: optional dependencies only.
OPTIONAL = {("quizapp.hardening", "redis")}

# domain → the domains it must never import (docs/architecture.md, "Direction").
FORBIDDEN = {
    "attempts": {"contests", "branches", "bank", "learning", "people"},
    "contests": {"branches", "bank", "learning"},
    "branches": {"bank"},   # branches reads learning (review days) through its hook
    "people": {"attempts", "contests", "branches", "bank", "learning"},
    "learning": {"branches", "bank"},
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, tuple[Path, ast.Module]]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        found[module_name(path)] = (path, ast.parse(path.read_text(encoding="utf-8")))
    return found


MODULES = modules()


def resolve(name: str, path: Path, node: ast.ImportFrom) -> list[str]:
    """The quizapp modules a `from … import …` statement loads (a package's
    submodules named in the import count as imported)."""
    if node.level:
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        base = package.split(".")
        base = base[:len(base) - (node.level - 1)]
        target = ".".join(base + ([node.module] if node.module else []))
    else:
        target = node.module or ""
    if not target.startswith("quizapp"):
        return []
    loaded = [target]
    for alias in node.names:
        sub = f"{target}.{alias.name}"
        if sub in MODULES:
            loaded.append(sub)
    return loaded


def top_level_imports(name: str, path: Path, tree: ast.Module) -> set[str]:
    """Imports executed when the module loads (not those under `if TYPE_CHECKING:`)."""
    found: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        for sub in ast.walk(node) if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef,
                                                             ast.ClassDef)) else []:
            if isinstance(sub, ast.ImportFrom):
                found.update(resolve(name, path, sub))
            elif isinstance(sub, ast.Import):
                found.update(a.name for a in sub.names if a.name.startswith("quizapp"))
    return {m for m in found if m in MODULES and m != name}


GRAPH = {name: top_level_imports(name, path, tree) for name, (path, tree) in MODULES.items()}


def test_no_import_inside_a_function_body_but_optional_dependencies():
    offenders = []
    for name, (path, tree) in MODULES.items():
        for func in ast.walk(tree):
            if not isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(func):
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom):
                    names = ["." * node.level + (node.module or "")]
                else:
                    continue
                for imported in names:
                    if (name, imported.split(".")[0]) not in OPTIONAL:
                        offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} {func.name}() imports {imported}")
    assert offenders == [], "\n".join(offenders)


def test_no_import_cycle():
    """Tarjan's strongly connected components over the module-level import graph: every
    component must be a single module. A package importing its own submodules is fine
    (the package is the parent, not a peer), so parent → child edges are left out."""
    graph = {m: {t for t in targets if not t.startswith(m + ".")} for m, targets in GRAPH.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph[node]:
            if target not in index:
                connect(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    assert cycles == []


def domain_of(module: str) -> str | None:
    parts = module.split(".")
    if len(parts) >= 3 and parts[:2] == ["quizapp", "services"]:
        return parts[2]
    return None


@pytest.mark.parametrize("domain", sorted(FORBIDDEN))
def test_domains_import_only_downwards(domain):
    wrong = []
    for module, targets in GRAPH.items():
        if domain_of(module) != domain:
            continue
        for target in targets:
            if domain_of(target) in FORBIDDEN[domain]:
                wrong.append(f"{module} → {target}")
    assert wrong == []


def test_only_blueprints_and_the_cli_import_the_bank():
    wrong = [f"{module} → {target}" for module, targets in GRAPH.items() for target in targets
             if domain_of(target) == "bank" and domain_of(module) not in {"bank", None}]
    assert wrong == []


def test_the_checks_see_the_code():
    """Guards against a check that passes because it reads nothing."""
    assert "quizapp.services.attempts.finish" in GRAPH
    assert "quizapp.services.bank.store" in GRAPH["quizapp.services.bank.draft_store"]
    assert any(domain_of(t) == "attempts" for t in GRAPH["quizapp.services.contests.rounds"])
