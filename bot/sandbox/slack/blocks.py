"""Slack's Block Kit limits, checked the way Slack reports them.

Slack answers a message that breaks these with `invalid_blocks` and one
`[ERROR] <what> [json-pointer:<where>]` line per problem in `response_metadata.messages`.
Only the limits a bot is likely to hit are modelled; unknown block types pass.
"""

from __future__ import annotations

from typing import Any

MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_SECTION_FIELDS = 10
MAX_FIELD_TEXT = 2000
MAX_HEADER_TEXT = 150
MAX_CONTEXT_ELEMENTS = 10
MAX_ACTIONS_ELEMENTS = 25
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_ACTION_ID = 255
MAX_BLOCK_ID = 255
MAX_MARKDOWN_BLOCK_TEXT = 12_000
#: Slack refuses a message whose blocks carry too much text overall with `msg_blocks_too_long`
#: (reported from about 13,000 characters; the exact point varies). Counted as text characters.
MAX_BLOCKS_TEXT = 13_000


def blocks_text_length(blocks: Any) -> int:
    """Characters of text in all the blocks' text objects."""
    total = 0

    def walk(node: Any) -> None:
        nonlocal total
        if isinstance(node, dict):
            if isinstance(node.get("text"), str):
                total += len(node["text"])
            for v in node.values():
                if isinstance(v, (dict, list)):
                    walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(blocks)
    return total


KNOWN_TEXT_TYPES = {"plain_text", "mrkdwn"}


def validate_blocks(blocks: Any) -> list[str]:
    """Every limit the blocks break, as Slack words it (empty when they are fine)."""
    if not isinstance(blocks, list):
        return ["must provide an array [json-pointer:/blocks]"]
    problems: list[str] = []
    if len(blocks) > MAX_BLOCKS:
        problems.append(f"no more than {MAX_BLOCKS} items allowed [json-pointer:/blocks]")
    block_ids: set[str] = set()
    for i, block in enumerate(blocks):
        where = f"/blocks/{i}"
        if not isinstance(block, dict) or "type" not in block:
            problems.append(f"missing required field: type [json-pointer:{where}]")
            continue
        block_id = block.get("block_id")
        if block_id is not None:
            if len(str(block_id)) > MAX_BLOCK_ID:
                problems.append(f"must be less than {MAX_BLOCK_ID + 1} characters [json-pointer:{where}/block_id]")
            if block_id in block_ids:
                problems.append(f"duplicate block_id [json-pointer:{where}/block_id]")
            block_ids.add(block_id)
        kind = block["type"]
        if kind == "section":
            problems += _section(block, where)
        elif kind == "header":
            problems += _text(block.get("text"), f"{where}/text", MAX_HEADER_TEXT, plain_only=True, required=True)
        elif kind == "context":
            elements = block.get("elements") or []
            if not elements:
                problems.append(f"must provide at least 1 item [json-pointer:{where}/elements]")
            if len(elements) > MAX_CONTEXT_ELEMENTS:
                problems.append(f"no more than {MAX_CONTEXT_ELEMENTS} items allowed [json-pointer:{where}/elements]")
            for j, el in enumerate(elements):
                if isinstance(el, dict) and el.get("type") in KNOWN_TEXT_TYPES:
                    problems += _text(el, f"{where}/elements/{j}", MAX_SECTION_TEXT)
        elif kind == "actions":
            elements = block.get("elements") or []
            if not elements:
                problems.append(f"must provide at least 1 item [json-pointer:{where}/elements]")
            if len(elements) > MAX_ACTIONS_ELEMENTS:
                problems.append(f"no more than {MAX_ACTIONS_ELEMENTS} items allowed [json-pointer:{where}/elements]")
            action_ids: set[str] = set()
            for j, el in enumerate(elements):
                problems += _element(el, f"{where}/elements/{j}", action_ids)
        elif kind == "markdown":
            text = block.get("text")
            if not isinstance(text, str) or not text:
                problems.append(f"missing required field: text [json-pointer:{where}/text]")
            elif len(text) > MAX_MARKDOWN_BLOCK_TEXT:
                problems.append(
                    f"must be less than {MAX_MARKDOWN_BLOCK_TEXT + 1} characters [json-pointer:{where}/text]"
                )
    return problems


def _section(block: dict[str, Any], where: str) -> list[str]:
    problems: list[str] = []
    text, fields = block.get("text"), block.get("fields")
    if text is None and not fields:
        problems.append(f"must provide either text or fields [json-pointer:{where}]")
    if text is not None:
        problems += _text(text, f"{where}/text", MAX_SECTION_TEXT, required=True)
    if fields is not None:
        if len(fields) > MAX_SECTION_FIELDS:
            problems.append(f"no more than {MAX_SECTION_FIELDS} items allowed [json-pointer:{where}/fields]")
        for j, f in enumerate(fields):
            problems += _text(f, f"{where}/fields/{j}", MAX_FIELD_TEXT, required=True)
    accessory = block.get("accessory")
    if accessory is not None:
        problems += _element(accessory, f"{where}/accessory", set())
    return problems


def _text(obj: Any, where: str, limit: int, *, plain_only: bool = False, required: bool = False) -> list[str]:
    if obj is None:
        return [f"missing required field: text [json-pointer:{where}]"] if required else []
    if not isinstance(obj, dict) or obj.get("type") not in KNOWN_TEXT_TYPES:
        return [f"must be a text object [json-pointer:{where}]"]
    if plain_only and obj["type"] != "plain_text":
        return [f"must be a plain_text object [json-pointer:{where}/type]"]
    text = obj.get("text")
    if not isinstance(text, str) or not text:
        return [f"must be more than 0 characters [json-pointer:{where}/text]"]
    if len(text) > limit:
        return [f"must be less than {limit + 1} characters [json-pointer:{where}/text]"]
    return []


def _element(el: Any, where: str, action_ids: set[str]) -> list[str]:
    if not isinstance(el, dict) or "type" not in el:
        return [f"missing required field: type [json-pointer:{where}]"]
    problems: list[str] = []
    action_id = el.get("action_id")
    if action_id is not None:
        if len(action_id) > MAX_ACTION_ID:
            problems.append(f"must be less than {MAX_ACTION_ID + 1} characters [json-pointer:{where}/action_id]")
        if action_id in action_ids:
            problems.append(f"duplicate action_id [json-pointer:{where}/action_id]")
        action_ids.add(action_id)
    if el["type"] == "button":
        problems += _text(el.get("text"), f"{where}/text", MAX_BUTTON_TEXT, plain_only=True, required=True)
        value = el.get("value")
        if value is not None and len(str(value)) > MAX_BUTTON_VALUE:
            problems.append(f"must be less than {MAX_BUTTON_VALUE + 1} characters [json-pointer:{where}/value]")
    return problems
