"""Every failure a person can meet on Slack, worded once: the app's one error handler and the sentences.

``register`` installs ``app.error``: a listener that raises (a message event whose quote could not be
stored) is logged with its request, answers nothing in public, and gets an error status, so Slack
delivers the event again. Bolt only logs what a lazy listener raises, so those (the commands, the
buttons and shortcuts, which answer through ``respond``) turn their failure into a reply with
``sentence`` and ``reply``, the same words as the handler.

The core's errors carry structured hints; here they are worded the Slack way (``/summary format=html``,
a workspace admin). A follow-up is chosen by the error's type and hint, never by searching its text.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App, Respond
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.services.errors import AskForRole, BreakoutError, PickAPlan, Role, Usage
from bot.services.port import ChatError

from . import blocks as bk
from .port import reason
from .services import SlackServices

log = logging.getLogger(__name__)

SORRY = "Something went wrong on our side (it is logged). Please try again in a minute."
INVITE_FIRST = "If this is a private channel, invite the bot to it first (/invite @breakout-bot)."
#: Slack's error codes that mean the bot cannot see the channel a command was typed in.
HIDDEN_CHANNEL = ("channel_not_found", "not_in_channel")


class HiddenChannel(ChatError):
    """The bot cannot see the channel the command was typed in (a private channel it is not in)."""


def hint_words(error: BreakoutError, services: SlackServices | None = None) -> str:
    """The hint in Slack's words ('' when there is nothing to add)."""
    hint = error.hint
    if isinstance(hint, Usage):
        tried = [f"{hint.option}={choice}" for choice in hint.choices]
        listed = ", ".join(tried[:-1]) + f" or {tried[-1]}" if len(tried) > 1 else tried[0]
        return f"Try /{hint.command} {listed}."
    if isinstance(hint, AskForRole):
        who = "an organiser" if hint.role is Role.FACILITATOR else "a workspace admin"
        return f"If you should be one, ask {who} to add you."
    if isinstance(hint, PickAPlan) and services is not None:
        return services.plan_list()
    return ""


def sentence(error: BaseException, services: SlackServices | None = None) -> str:
    """What the person reads for ``error``: theirs to fix, Slack's refusal, or ours (logged)."""
    if isinstance(error, BreakoutError):
        extra = hint_words(error, services)
        if isinstance(error.hint, PickAPlan) and extra:
            return f"{error.message}\n\n{extra}"
        return f"{error.message} {extra}" if extra else error.message
    if isinstance(error, HiddenChannel):
        return f"Slack refused: {error}\n{INVITE_FIRST}"
    if isinstance(error, ChatError):
        return f"Slack refused: {error}"
    if isinstance(error, SlackApiError | SlackClientError):
        log.warning("a request failed on the Slack side: %s", error)
        return f"Slack refused: {reason(error)}"
    log.error("a request failed", exc_info=error)
    return SORRY


def reply(respond: Respond | None, text: str, *, replace_original: bool = False) -> None:
    """Answer the person privately; a reply that cannot be sent is logged, never raised."""
    if respond is None:
        return
    try:
        respond(**bk.reply_payload(text), replace_original=replace_original)
    except Exception:
        log.warning("could not send the answer %r", text[:80], exc_info=True)


def register(app: App, services: SlackServices) -> None:
    @app.error
    def on_error(error: Exception, body: dict[str, Any], respond: Respond | None = None) -> None:
        """A listener failed: say so to the person who asked (when someone did), and let Slack retry events."""
        text = sentence(error, services)
        if respond is not None and body.get("response_url"):  # a command, a button, a shortcut
            reply(respond, text)
        else:
            log.info("no one to tell about it (%s): %s", body.get("type") or body.get("event", {}).get("type"), text)
