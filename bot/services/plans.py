"""Finding and checking session plans in ``prompts/plans/``.

A broken file only ever affects its own plan: listing the plans shows it as broken, starting it
answers with its problems, and every other plan (and ``/breakout help``) works as before.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from bot.domain.plan import MAX_PLAN_BYTES, Plan, PlanInvalid, Problem, describe_problems, load_plan, shown
from bot.services.errors import BadArguments, NotFound, PickAPlan

#: What a plan name may look like: a file name in the plans folder, never a path.
PLAN_NAME_RE = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")


@dataclass(frozen=True)
class PlanEntry:
    slug: str
    path: Path
    plan: Plan | None
    problems: tuple[Problem, ...] = ()


class PlanRefused(BadArguments):
    """A plan that exists but cannot start: the message lists its problems as ``plans check`` does."""

    def __init__(self, slug: str, problems: list[Problem], *, filename: str | None = None) -> None:
        self.slug, self.problems = slug, problems
        count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
        super().__init__(
            f"The plan '{slug}' has {count}, so nothing was started. "
            f"Fix prompts/plans/{filename or slug + '.yaml'} (breakout-bot plans check {slug} shows the same list):\n"
            + describe_problems(problems)
        )


def load_plan_file(path: Path) -> Plan:
    """The plan in one file; raises PlanInvalid (never anything else) for a file that is not a good plan."""
    try:
        if not path.is_file():
            raise PlanInvalid(str(path), [Problem(None, "this is not a file", "a plan is a .yaml file")])
        size = path.stat().st_size
        if size > MAX_PLAN_BYTES:  # refused before it is read: a plan is never this big
            raise PlanInvalid(
                str(path),
                [
                    Problem(
                        None,
                        f"the file is {size // 1024} KB; a plan is at most {MAX_PLAN_BYTES // 1024} KB",
                        "a plan holds a title, a few questions and settings",
                    )
                ],
            )
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise PlanInvalid(str(path), [Problem(None, "the file is not UTF-8 text", "save it as UTF-8")]) from None
    except OSError as exc:
        raise PlanInvalid(
            str(path), [Problem(None, f"the file cannot be read ({exc.strerror or exc})", "check its permissions")]
        ) from None
    return load_plan(text, slug=path.stem, source=str(path))


class PlanLibrary:
    def __init__(self, prompts_dir: Path):
        self.directory = Path(prompts_dir) / "plans"

    def _files(self) -> list[Path]:
        return sorted(self.directory.glob("*.y*ml"))

    def entries(self) -> list[PlanEntry]:
        out = []
        for path in self._files():
            try:
                out.append(PlanEntry(path.stem, path, load_plan_file(path)))
            except PlanInvalid as invalid:
                out.append(PlanEntry(path.stem, path, None, tuple(invalid.problems)))
        return out

    def slugs(self) -> list[str]:
        """The plan names, without reading the plans."""
        return [path.stem for path in self._files()]

    def get(self, slug: str) -> Plan:
        """The plan by name; a broken plan raises PlanRefused listing its problems, and never starts.

        Only names of files in the plans folder are looked up: ``../x`` or ``/etc/x`` is no plan name.
        """
        slug = slug.strip().lower().removesuffix(".yaml").removesuffix(".yml")
        if PLAN_NAME_RE.fullmatch(slug):
            for suffix in (".yaml", ".yml"):
                path = self.directory / f"{slug}{suffix}"
                if path.is_file():
                    try:
                        return load_plan_file(path)
                    except PlanInvalid as invalid:
                        raise PlanRefused(slug, invalid.problems, filename=path.name) from None
        known = ", ".join(self.slugs()) or "(none: add a YAML file to prompts/plans/)"
        raise NotFound(f"There is no plan called {shown(slug, 68)}. Plans: {known}.", hint=PickAPlan())
