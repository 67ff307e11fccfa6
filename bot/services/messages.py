"""The bot's message texts: ``prompts/messages.yaml``, overridable per plan.

Templates are Jinja2 in a sandbox (organisers write them, not programmers), rendered to plain text.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from jinja2 import StrictUndefined
from jinja2.sandbox import SandboxedEnvironment

from bot.domain.consent import Level
from bot.domain.plan import Plan
from bot.services.port import ConsentOption

DEFAULTS: dict[str, str] = {
    "welcome": "Welcome to group {{ group }} of {{ title }}. {{ group_size }} of you are here. "
    "Questions appear in this channel; reply here or in the question's thread.",
    "question": "{{ question }}",
    "warning": "{{ minutes }} minute{{ '' if minutes == 1 else 's' }} left for this question.",
    "close": "Time is up. Thank you for the conversation!",
    "consent_prompt": "How may we name you if we quote you in the write-up?",
    "consent_confirmed": "You chose: {{ choice }}. Change it at any time with the buttons or /breakout consent.",
    "broadcast": "{{ text }}",
    "not_your_group": "This channel belongs to group {{ group }} of {{ title }}, and you are not in that group, "
    "so what you write here will not be quoted in the write-up."
    "{% if your_group %} Your own group is group {{ your_group }}: we'd love to hear you there.{% endif %}",
}

CONSENT_LABELS: dict[Level, str] = {
    Level.FULL_NAME: "Use my full name",
    Level.FIRST_NAME: "First name only",
    Level.INITIALS: "Initials only",
    Level.ANONYMOUS: "Quote me anonymously",
    Level.NOT_QUOTED: "Don't quote me",
}


class MessageBook:
    def __init__(self, prompts_dir: Path):
        self._env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)
        self._texts = dict(DEFAULTS)
        self._labels = dict(CONSENT_LABELS)
        path = Path(prompts_dir) / "messages.yaml"
        if path.is_file():
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            labels = data.pop("consent_labels", {}) or {}
            self._texts.update({k: str(v) for k, v in data.items() if k in DEFAULTS})
            for key, text in labels.items():
                self._labels[Level.parse(key)] = str(text)

    def render(self, key: str, plan: Plan | None = None, **context: Any) -> str:
        source = (plan.messages.get(key) if plan else None) or self._texts[key]
        return self._env.from_string(source).render(**context).strip()

    def consent_options(self) -> tuple[ConsentOption, ...]:
        return tuple(ConsentOption(level, self._labels[level]) for level in Level)

    def consent_label(self, level: Level) -> str:
        return self._labels[level]
