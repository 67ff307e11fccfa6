"""Discord: discord.py client, app commands, persistent consent buttons, capture, and the chat port.

Kept import-light: ``endpoints`` is imported by the sandbox without pulling in the core.
"""
