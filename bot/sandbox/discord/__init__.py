"""A local Discord server that speaks Discord's REST API and gateway, for the real discord.py.

    with DiscordSandbox() as sb:                      # 127.0.0.1, port 0, its own thread and loop
        sb.point_discord_py()                         # Route.BASE and the gateway -> the sandbox
        guild = sb.add_guild("Community")
        alice = sb.add_member(guild, "alice", is_admin=True)
        chat, call = sb.add_text_channel(guild, "chat"), sb.add_voice_channel(guild, "Call")
        with ClientThread(my_discord_client, sb.token):   # or: await start_client(client, sb.token)
            alice.join_voice(call)
            reply = alice.run_command(chat, "breakout start", plan="x").wait(messages=1)
            alice.say(chat, "hello"); alice.click(reply.original, "custom-id")
            sb.wait_until(lambda: sb.bot_messages(chat))

Members: ``say`` (``reply_to``), ``edit``, ``delete``, ``react``/``unreact`` (unicode emoji), ``start_thread``,
``join_voice``, ``run_command`` (an attachment option takes ``(filename, bytes)``), ``autocomplete``,
``click``, ``select``, ``use_message_command``, ``submit_modal``, ``close_dms``.
Inspection: ``messages``, ``bot_messages``, ``dm_messages``, ``channels_in``, ``permissions``/``can``,
``voice_channel_of``, ``members_in_voice``, ``commands``, ``calls`` (the REST log), each message's
``allowed_mentions`` and ``pings``. Faults: ``inject_429``, ``inject_server_error`` (``after_commit``),
``drop_gateway`` (RESUME replays what was missed), ``invalidate_sessions``, ``rate_limits=`` buckets.
"""

from .members import SandboxError, SimMember
from .model import Attachment, Channel, Guild, Message, P, Role
from .pointing import discord_py_pointed_at, point_discord_py_at, point_discord_py_at_discord
from .records import InteractionRecord
from .rest import RestCall
from .runner import ClientThread, all_intents, start_client, stop_client
from .server import DiscordSandbox

__all__ = [
    "Attachment",
    "Channel",
    "ClientThread",
    "DiscordSandbox",
    "Guild",
    "InteractionRecord",
    "Message",
    "P",
    "RestCall",
    "Role",
    "SandboxError",
    "SimMember",
    "all_intents",
    "discord_py_pointed_at",
    "point_discord_py_at",
    "point_discord_py_at_discord",
    "start_client",
    "stop_client",
]
