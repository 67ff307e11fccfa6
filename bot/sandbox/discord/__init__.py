"""A local Discord server that speaks Discord's REST API and gateway, for the real discord.py.

    with DiscordSandbox() as sb:
        sb.point_discord_py()           # discord.http.Route.BASE and the gateway URL -> the sandbox
        guild = sb.add_guild("Community")
        alice = sb.add_member(guild, "alice", is_admin=True)
        ...                             # run a discord.py Client with sb.token, drive alice

See ``pointing.py`` for how discord.py is redirected and ``server.py`` for what a test can do.
"""

from .model import Attachment, Channel, Guild, Message, P, Role
from .pointing import discord_py_pointed_at, point_discord_py_at, point_discord_py_at_discord
from .rest import RestCall
from .runner import ClientThread, all_intents, start_client, stop_client
from .server import DiscordSandbox, InteractionRecord, SandboxError, SimMember

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
    "start_client",
    "stop_client",
    "point_discord_py_at",
    "point_discord_py_at_discord",
]
