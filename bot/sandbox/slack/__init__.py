"""A local Slack workspace speaking Slack's real protocols (Web API, Socket Mode, HTTP mode)."""

from .delivery import Attempt, Delivery
from .faults import Fault, Faults
from .http_mode import sign
from .sandbox import CommandResult, ResponsePost, SimUser, SlackSandbox
from .tiers import TIERS, Limit, RateTiers
from .web_api import ApiCall
from .workspace import Channel, SlackError, UploadedFile, User, Usergroup, Workspace

__all__ = [
    "TIERS",
    "ApiCall",
    "Attempt",
    "Channel",
    "CommandResult",
    "Delivery",
    "Fault",
    "Faults",
    "Limit",
    "RateTiers",
    "ResponsePost",
    "SimUser",
    "SlackError",
    "SlackSandbox",
    "UploadedFile",
    "User",
    "Usergroup",
    "Workspace",
    "sign",
]
