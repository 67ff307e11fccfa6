"""Finding and checking session plans in ``prompts/plans/``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot.domain.plan import Plan, PlanInvalid, Problem, load_plan
from bot.services.errors import NotFound, PickAPlan


@dataclass(frozen=True)
class PlanEntry:
    slug: str
    path: Path
    plan: Plan | None
    problems: tuple[Problem, ...] = ()


def load_plan_file(path: Path) -> Plan:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise PlanInvalid(str(path), [Problem(None, "the file is not UTF-8 text", "save it as UTF-8")]) from None
    return load_plan(text, slug=path.stem, source=str(path))


class PlanLibrary:
    def __init__(self, prompts_dir: Path):
        self.directory = Path(prompts_dir) / "plans"

    def entries(self) -> list[PlanEntry]:
        out = []
        for path in sorted(self.directory.glob("*.y*ml")):
            try:
                out.append(PlanEntry(path.stem, path, load_plan_file(path)))
            except PlanInvalid as invalid:
                out.append(PlanEntry(path.stem, path, None, tuple(invalid.problems)))
        return out

    def slugs(self) -> list[str]:
        return [e.slug for e in self.entries()]

    def get(self, slug: str) -> Plan:
        """The plan by name; a broken plan raises PlanInvalid and never starts a breakout."""
        slug = slug.strip().lower().removesuffix(".yaml").removesuffix(".yml")
        for suffix in (".yaml", ".yml"):
            path = self.directory / f"{slug}{suffix}"
            if path.is_file():
                return load_plan_file(path)
        known = ", ".join(self.slugs()) or "(none: add a YAML file to prompts/plans/)"
        raise NotFound(f"There is no plan called '{slug}'. Plans: {known}.", hint=PickAPlan())
