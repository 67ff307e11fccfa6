"""Local stand-ins for a Slack workspace and a Discord server that speak the real wire protocols.

They ship inside `bot/` on purpose, though they are about 40% of its lines: `breakout-bot run` with
no credentials (and `breakout-bot demo`) runs a whole session on them, so a newcomer sees the bot
work before making a Slack app or a Discord bot, with nothing more to install. A running bot never
imports them: only `bot.demo` (loaded lazily for the demo) and the tests do.
"""
