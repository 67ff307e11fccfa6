"""The consent buttons (in each group's welcome and in the private prompt), and the message shortcuts
"Leave out of write-up" / "Put back in write-up" (callback ids in ``blocks``, as in the manifest)."""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt import Ack, App, Respond

from bot.services.errors import BreakoutError

from .. import blocks as bk
from ..services import SlackServices

log = logging.getLogger(__name__)


def register(app: App, s: SlackServices) -> None:
    def ack_consent(ack: Ack) -> None:
        ack()

    def choose(body: dict[str, Any], respond: Respond) -> None:
        action = body["actions"][0]
        try:
            breakout_id, level = bk.parse_consent_value(action.get("value", ""))
        except ValueError:
            log.warning("a consent button with an unknown value: %r", action.get("value"))
            return
        channel_id = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
        team_id = (body.get("team") or {}).get("id") or (body.get("user") or {}).get("team_id")
        try:
            actor = s.actor(team_id, body["user"]["id"])
            text = s.core.consents.choose(
                actor, level=level, via="button", channel_id=channel_id, breakout_id=breakout_id
            ).confirmation
        except BreakoutError as exc:
            text = str(exc)
        except Exception:
            log.exception("recording a consent choice failed")
            text = "Sorry, your choice could not be saved just now. Please press the button again in a minute."
        replace = bool((body.get("container") or {}).get("is_ephemeral"))  # the private prompt: replace it
        respond(**bk.reply_payload(text), replace_original=replace)

    app.action(re.compile(f"^{bk.CONSENT_ACTION_PREFIX}"))(ack=ack_consent, lazy=[choose])

    def ack_shortcut(ack: Ack) -> None:
        ack()

    def curate(body: dict[str, Any], respond: Respond) -> None:
        """The author takes one message out of the write-up, or puts it back; answered to them alone."""
        channel_id = (body.get("channel") or {}).get("id") or ""
        message_ts = body.get("message_ts") or (body.get("message") or {}).get("ts") or ""
        team_id = (body.get("team") or {}).get("id") or (body.get("user") or {}).get("team_id")
        act = s.core.curation.take_out if body.get("callback_id") == bk.TAKE_OUT_SHORTCUT else s.core.curation.put_back
        try:
            actor = s.actor(team_id, body["user"]["id"])
            text = act(actor, channel_id=channel_id, message_id=message_ts)
        except BreakoutError as exc:
            text = str(exc)
        except Exception:
            log.exception("the %s shortcut failed", body.get("callback_id"))
            text = "Sorry, that could not be changed just now. Please try again in a minute."
        respond(**bk.reply_payload(text))

    for callback_id in (bk.TAKE_OUT_SHORTCUT, bk.PUT_BACK_SHORTCUT):
        app.message_shortcut(callback_id)(ack=ack_shortcut, lazy=[curate])
