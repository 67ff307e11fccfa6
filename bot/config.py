"""Settings, read once from the environment (and a ``.env`` file) into one object.

Nothing else in the product reads ``os.environ``: everything that needs a setting is handed it.
Every setting is listed, with its default, in ``.env.example`` and the README.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path

from dotenv import dotenv_values

PACKAGE_ROOT = Path(__file__).resolve().parent


def default_prompts_dir() -> Path:
    """``prompts/`` in the working directory, else the one beside the package (a checkout)."""
    here = Path.cwd() / "prompts"
    if here.is_dir():
        return here
    return PACKAGE_ROOT.parent / "prompts"


def _split(value: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (value or "").split(",") if part.strip())


class SettingError(ValueError):
    pass


@dataclass(frozen=True)
class Settings:
    database_url: str = "sqlite:///breakout-bot.db"
    prompts_dir: Path = field(default_factory=default_prompts_dir)
    time_scale: float = 1.0
    fanout_concurrency: int = 8
    log_level: str = "INFO"

    slack_bot_token: str | None = None
    slack_app_token: str | None = None
    slack_signing_secret: str | None = None
    slack_api_url: str = "https://slack.com/api/"
    slack_mode: str = "auto"  # auto | socket | http
    slack_port: int = 3000
    http_threads: int = 16  # HTTP mode: threads answering Slack; the database pool is sized to match
    http_backlog: int = 1024  # HTTP mode: connections the kernel holds while all threads are busy
    slack_facilitators: tuple[str, ...] = ()  # user ids (U123) or user group handles (@facilitators)
    slack_organisers: tuple[str, ...] = ()

    discord_token: str | None = None
    discord_api_url: str = "https://discord.com/api/v10"
    discord_facilitator_roles: tuple[str, ...] = ()  # role names or ids
    discord_organiser_roles: tuple[str, ...] = ()
    discord_guild_id: str | None = None  # for syncing commands to one server at once

    @classmethod
    def load(cls, environ: Mapping[str, str] | None = None, *, dotenv: str | Path | None = ".env") -> Settings:
        """Settings from ``environ`` (the process environment by default) over a ``.env`` file."""
        values: dict[str, str] = {}
        if dotenv is not None and Path(dotenv).is_file():
            values.update({k: v for k, v in dotenv_values(dotenv).items() if v is not None})
        values.update(os.environ if environ is None else environ)
        return cls.from_mapping(values)

    @classmethod
    def from_mapping(cls, values: Mapping[str, str]) -> Settings:
        def get(name: str) -> str | None:
            value = values.get(name)
            return value if value not in (None, "") else None

        def number(name: str, default: float, kind: type = float) -> float:
            raw = get(name)
            if raw is None:
                return default
            try:
                value = kind(raw)
            except ValueError:
                raise SettingError(f"{name}={raw!r} is not a number; set it like {name}={default}") from None
            if value <= 0:
                raise SettingError(f"{name} must be greater than 0 (got {raw})")
            return value

        mode = (get("SLACK_MODE") or "auto").lower()
        if mode not in ("auto", "socket", "http"):
            raise SettingError(f"SLACK_MODE={mode!r}: use socket, http or auto")
        api_url = get("SLACK_API_URL") or cls.slack_api_url
        return cls(
            database_url=get("DATABASE_URL") or cls.database_url,
            prompts_dir=Path(prompts) if (prompts := get("BREAKOUT_PROMPTS_DIR")) else default_prompts_dir(),
            time_scale=number("BREAKOUT_TIME_SCALE", 1.0),
            fanout_concurrency=int(number("BREAKOUT_FANOUT_CONCURRENCY", 8, int)),
            log_level=(get("LOG_LEVEL") or "INFO").upper(),
            slack_bot_token=get("SLACK_BOT_TOKEN"),
            slack_app_token=get("SLACK_APP_TOKEN"),
            slack_signing_secret=get("SLACK_SIGNING_SECRET"),
            slack_api_url=api_url if api_url.endswith("/") else api_url + "/",
            slack_mode=mode,
            slack_port=int(number("SLACK_PORT", 3000, int)),
            http_threads=int(number("BREAKOUT_HTTP_THREADS", 16, int)),
            http_backlog=int(number("BREAKOUT_HTTP_BACKLOG", 1024, int)),
            slack_facilitators=_split(get("SLACK_FACILITATORS")),
            slack_organisers=_split(get("SLACK_ORGANISERS")),
            discord_token=get("DISCORD_TOKEN"),
            discord_api_url=(get("DISCORD_API_URL") or cls.discord_api_url).rstrip("/"),
            discord_facilitator_roles=_split(get("DISCORD_FACILITATOR_ROLES")),
            discord_organiser_roles=_split(get("DISCORD_ORGANISER_ROLES")),
            discord_guild_id=get("DISCORD_GUILD_ID"),
        )

    @property
    def resolved_slack_mode(self) -> str:
        if self.slack_mode != "auto":
            return self.slack_mode
        return "socket" if self.slack_app_token else "http"

    @property
    def database_pool(self) -> tuple[int, int]:
        """(pool_size, max_overflow): a connection for each HTTP thread and a few for the clock, the
        lazy listeners and the workers; overflow for bursts. A fleet of N processes on PostgreSQL
        may open N x (threads + 12) connections (PostgreSQL allows 100 by default)."""
        return self.http_threads + 4, 8

    @property
    def has_slack_credentials(self) -> bool:
        return bool(self.slack_bot_token and (self.slack_app_token or self.slack_signing_secret))

    @property
    def has_discord_credentials(self) -> bool:
        return bool(self.discord_token)

    def replace(self, **changes: object) -> Settings:
        current = {f.name: getattr(self, f.name) for f in fields(self)}
        current.update(changes)
        return Settings(**current)
