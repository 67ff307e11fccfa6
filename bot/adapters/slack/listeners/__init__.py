"""Slack listeners, one module per concern; each exposes ``register(app, services)``."""

from __future__ import annotations

from slack_bolt import App

from ..services import SlackServices
from . import actions, commands, events


def register(app: App, services: SlackServices) -> None:
    commands.register(app, services)
    actions.register(app, services)
    events.register(app, services)
