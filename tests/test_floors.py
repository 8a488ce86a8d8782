"""The house is laid in floors: a module imports only from floors below it (or from its own domain), never in a
circle, and never from inside a function to dodge one. The floors are data here; docs/architecture.md says why.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import tierline

PACKAGE = Path(tierline.__file__).parent

# Lowest first. A module's floor is that of the longest prefix naming it; `api`, `api_*` and `cli` modules of
# any domain are routes and commands, on the top floor.
FLOORS: list[tuple[str, tuple[str, ...]]] = [
    ("configuration", ("tierline", "tierline.settings")),
    ("platform", ("tierline.platform",)),
    ("people", ("tierline.people",)),
    ("customers and components", ("tierline.customers", "tierline.components")),
    ("records", ("tierline.tickets",)),
    ("engines", ("tierline.triage", "tierline.sla", "tierline.problems")),
    ("capacity", ("tierline.capacity",)),
    ("flows", ("tierline.flows",)),
    ("top", ("tierline.app", "tierline.cli", "tierline.jobs_registry", "tierline.models", "tierline.demo",
             "tierline.migrations", "tierline.web")),
]
TOP = len(FLOORS) - 1
# Imports inside functions that are there for start-up time, not to dodge a cycle: the CLI loads a command's
# modules only when that command runs.
LAZY_IMPORTS_ALLOWED = ("tierline.cli", "tierline.triage.cli", "tierline.capacity.cli", "tierline.demo.command")


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts).removesuffix(".__init__")
        out[name] = path
    return out


def floor_of(module: str) -> int:
    last = module.rsplit(".", 1)[-1]
    if module.count(".") >= 2 and (last == "api" or last.startswith("api_") or last == "cli"):
        return TOP
    best, found = -1, None
    for i, (_, prefixes) in enumerate(FLOORS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best:
                best, found = len(prefix), i
    assert found is not None, f"{module} is on no floor: add its package to FLOORS"
    return found


def domain_of(module: str) -> str:
    return ".".join(module.split(".")[:2])


def _imports(path: Path, modules: dict[str, Path]) -> Iterator[tuple[str, bool, int]]:
    """(imported module, inside a function, line) for every import of a tierline module in the file."""
    tree = ast.parse(path.read_text())
    nested: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            nested.update(id(n) for n in ast.walk(node) if n is not node)
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in modules else node.module
                     for a in node.names]
        for name in names:
            while name not in modules and "." in name:
                name = name.rsplit(".", 1)[0]
            if name in modules and name.startswith("tierline"):
                yield name, id(node) in nested, node.lineno


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {m: {n for n, _, _ in _imports(p, modules) if n != m} for m, p in modules.items()}


def test_every_module_is_on_a_floor():
    for module in _modules():
        floor_of(module)


def test_imports_only_go_down_a_floor_or_stay_in_their_domain():
    wrong = []
    for module, imported in _graph().items():
        for other in imported:
            if domain_of(other) == domain_of(module) and floor_of(other) <= floor_of(module):
                continue
            if floor_of(other) < floor_of(module) or other == "tierline":
                continue
            if floor_of(other) == floor_of(module) == TOP:
                continue  # the top wires the house together: the app mounts routes, the CLI runs commands
            wrong.append(f"{module} ({FLOORS[floor_of(module)][0]}) imports {other} "
                         f"({FLOORS[floor_of(other)][0]})")
    assert wrong == []


def test_there_is_no_import_circle():
    graph = _graph()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    assert circles == []


def test_no_import_hides_inside_a_function():
    modules = _modules()
    hidden = [f"{m}:{line} imports {name}" for m, path in modules.items() if m not in LAZY_IMPORTS_ALLOWED
              for name, inside, line in _imports(path, modules) if inside]
    assert hidden == []


def test_the_floor_rules_catch_what_they_should():
    assert floor_of("tierline.tickets.api") == TOP and floor_of("tierline.triage.api_tiers") == TOP
    assert floor_of("tierline.platform.audit") == 1 and floor_of("tierline.flows.intake") == FLOORS.index(
        next(f for f in FLOORS if f[0] == "flows"))
    assert floor_of("tierline.sla.clocks") == floor_of("tierline.triage.rules")  # engines sit side by side
