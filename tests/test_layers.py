"""The architecture, checked: the core stays platform-free, adapters stay off the store, no import cycles.

The import graph is read from the source by ``scripts/import_cycles.py`` (function-level imports
included, since those still make a cycle at run time; ``if TYPE_CHECKING:`` imports left out).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parents[1]
SDKS = ("slack_sdk", "slack_bolt", "discord", "aiohttp", "waitress")


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("import_cycles", REPO / "scripts" / "import_cycles.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


IMPORTS = _script()


def _violations(layer: str, forbidden: tuple[str, ...]) -> list[str]:
    edges = IMPORTS.graph(REPO, top_only=False, external=True)
    return [
        f"{module} imports {target}"
        for module, targets in sorted(edges.items())
        if module == layer or module.startswith(layer + ".")
        for target in sorted(targets)
        if any(target == f or target.startswith(f + ".") for f in forbidden)
    ]


def test_no_import_cycles_among_bot_modules() -> None:
    assert IMPORTS.cycles(IMPORTS.graph(REPO, top_only=False)) == []


def test_the_domain_is_pure() -> None:
    forbidden = (
        *SDKS,
        "sqlalchemy",
        "alembic",
        "apscheduler",
        "jinja2",
        "bot.services",
        "bot.store",
        "bot.adapters",
        "bot.sandbox",
        "bot.render",
        "bot.scheduling",
        "bot.cli",
        "bot.config",
    )
    assert _violations("bot.domain", forbidden) == []


def test_the_core_never_imports_a_platform() -> None:
    forbidden = (*SDKS, "bot.adapters", "bot.sandbox", "bot.demo", "bot.cli")
    for layer in ("bot.domain", "bot.services", "bot.store", "bot.scheduling", "bot.render"):
        assert _violations(layer, forbidden) == [], layer


def test_adapters_reach_the_database_only_through_services() -> None:
    assert _violations("bot.adapters", ("bot.store", "sqlalchemy")) == []
