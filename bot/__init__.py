"""breakout-bot: breakout discussions in Slack and Discord, and the write-up afterwards."""
