"""deploy/slack-manifest.yaml: valid against Slack's schema, and in step with what the bot does."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

MANIFEST = Path(__file__).resolve().parents[2] / "deploy" / "slack-manifest.yaml"


@pytest.fixture
def manifest() -> dict:
    return yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))


def test_manifest_validates_against_slacks_schema(manifest: dict, slack_fixtures: Path) -> None:
    schema = json.loads((slack_fixtures / "manifest.schema.1.0.0.json").read_text(encoding="utf-8"))
    jsonschema.validate(manifest, schema)
    # The validator is doing its job: a broken manifest fails.
    broken = {**manifest, "display_information": {"name": ""}}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, schema)


def test_manifest_matches_the_bot(manifest: dict) -> None:
    commands = {c["command"] for c in manifest["features"]["slash_commands"]}
    assert commands == {"/breakout", "/summary"}
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    # Every Web API method the adapter calls needs one of these.
    assert {"commands", "chat:write", "channels:read", "channels:manage", "channels:join", "channels:history",
            "groups:history", "users:read", "usergroups:read", "files:write", "im:write", "files:read",
            "reactions:read"} <= scopes
    assert set(manifest["settings"]["event_subscriptions"]["bot_events"]) == {
        "message.channels", "message.groups", "reaction_added", "reaction_removed"}
    # The message shortcuts are the ones the adapter listens for.
    from bot.adapters.slack import blocks

    shortcuts = {s["callback_id"]: s for s in manifest["features"]["shortcuts"]}
    assert set(shortcuts) == {blocks.TAKE_OUT_SHORTCUT, blocks.PUT_BACK_SHORTCUT}
    assert all(s["type"] == "message" for s in shortcuts.values())
    # Organisers share the call's chat file in the bot's direct messages: the Messages tab takes input.
    assert manifest["features"]["app_home"]["messages_tab_read_only_enabled"] is False
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
    assert manifest["settings"]["socket_mode_enabled"] is True
