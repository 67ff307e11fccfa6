"""The consent buttons (in each group's welcome and in the private prompt), and the message shortcuts
"Leave out of write-up" / "Put back in write-up" (callback ids in ``blocks``, as in the manifest)."""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond

from .. import blocks as bk
from .. import errors
from ..services import SlackServices, actor_of

log = logging.getLogger(__name__)


def register(app: App, s: SlackServices) -> None:
    def ack_consent(ack: Ack) -> None:
        ack()

    def choose(body: dict[str, Any], respond: Respond, context: BoltContext) -> None:
        action = body["actions"][0]
        try:
            breakout_id, level = bk.parse_consent_value(action.get("value", ""))
        except ValueError:
            log.warning("a consent button with an unknown value: %r", action.get("value"))
            return
        channel_id = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
        try:
            text = s.core.consents.choose(
                actor_of(context), level=level, via="button", channel_id=channel_id, breakout_id=breakout_id
            ).confirmation
        except Exception as exc:
            text = errors.sentence(exc, s)
        replace = bool((body.get("container") or {}).get("is_ephemeral"))  # the private prompt: replace it
        errors.reply(respond, text, replace_original=replace)

    app.action(re.compile(f"^{bk.CONSENT_ACTION_PREFIX}"))(ack=ack_consent, lazy=[choose])

    def ack_shortcut(ack: Ack) -> None:
        ack()

    def curate(body: dict[str, Any], respond: Respond, context: BoltContext) -> None:
        """The author takes one message out of the write-up, or puts it back; answered to them alone."""
        channel_id = (body.get("channel") or {}).get("id") or ""
        message_ts = body.get("message_ts") or (body.get("message") or {}).get("ts") or ""
        act = s.core.curation.take_out if body.get("callback_id") == bk.TAKE_OUT_SHORTCUT else s.core.curation.put_back
        try:
            text = act(actor_of(context), channel_id=channel_id, message_id=message_ts)
        except Exception as exc:
            text = errors.sentence(exc, s)
        errors.reply(respond, text)

    for callback_id in (bk.TAKE_OUT_SHORTCUT, bk.PUT_BACK_SHORTCUT):
        app.message_shortcut(callback_id)(ack=ack_shortcut, lazy=[curate])
