"""Print the import cycles among the bot's own modules; exit 1 if there are any.

    python scripts/import_cycles.py            # every import that runs, module level or inside a function
    python scripts/import_cycles.py --top      # module-level imports only
    python scripts/import_cycles.py --root ../main   # another checkout

Reads the source with ``ast`` (nothing is imported, so it needs no dependency). Imports under
``if TYPE_CHECKING:`` never run and are left out. An import inside a function is still a cycle: it only
hides the order problem until the function is first called.
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "bot"


def modules(root: Path) -> dict[str, Path]:
    out = {}
    for path in sorted((root / PACKAGE).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST, *, top_only: bool) -> Iterator[ast.Import | ast.ImportFrom]:
    def walk(node: ast.AST, nested: bool) -> Iterator[ast.Import | ast.ImportFrom]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child.test):
                yield from (i for n in child.orelse for i in walk_one(n, nested))
                continue
            yield from walk_one(child, nested)

    def walk_one(node: ast.AST, nested: bool) -> Iterator[ast.Import | ast.ImportFrom]:
        if isinstance(node, ast.Import | ast.ImportFrom):
            if not (top_only and nested):
                yield node
            return
        inner = nested or isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
        yield from walk(node, inner)

    yield from walk(tree, False)


def graph(root: Path, *, top_only: bool, external: bool = False) -> dict[str, set[str]]:
    """Module -> the bot modules it imports; with ``external``, also the top-level names of other packages."""
    known = modules(root)
    edges: dict[str, set[str]] = {name: set() for name in known}
    for name, path in known.items():
        is_package = path.name == "__init__.py"
        for node in _imports(ast.parse(path.read_text(encoding="utf-8")), top_only=top_only):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                base = node.module or ""
                if node.level:
                    anchor = name.split(".") if is_package else name.split(".")[:-1]
                    anchor = anchor[: len(anchor) - (node.level - 1)]
                    base = ".".join([*anchor, base] if base else anchor)
                # ``from pkg import mod`` imports the module pkg.mod; ``from mod import name`` imports mod.
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
            for target in targets:
                outside = target.split(".")[0]
                while target and target not in known:
                    target = target.rpartition(".")[0]
                if target and target != name:
                    edges[name].add(target)
                elif not target and external and outside != PACKAGE:
                    edges[name].add(outside)
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0

    def visit(v: str) -> None:
        nonlocal counter
        index[v] = low[v] = counter
        counter += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges[v]):
            if w not in edges:  # another package's name (graph(external=True))
                continue
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
                found.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--top", action="store_true", help="module-level imports only")
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout to read (default: this one)")
    args = parser.parse_args()
    edges = graph(args.root, top_only=args.top)
    found = cycles(edges)
    scope = "module-level imports" if args.top else "all imports that run"
    print(f"{len(edges)} modules of {PACKAGE}, {sum(len(t) for t in edges.values())} imports ({scope})")
    for component in found:
        inside = set(component)
        print(f"cycle among {len(component)} modules:")
        for module in component:
            for target in sorted(edges[module] & inside):
                print(f"  {module} -> {target}")
    print("no cycles" if not found else f"{len(found)} cycle(s)")
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main())
