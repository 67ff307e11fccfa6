"""The Slack adapter: a slack-bolt app that runs breakouts, on Socket Mode or HTTP.

``runner.SlackBot`` wires it; ``port.SlackPort`` is the core's chat port on the Web API;
``listeners`` turn commands, button clicks and message events into calls on the core.
"""
