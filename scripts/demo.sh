#!/usr/bin/env bash
# Set up, then run the bot's main job. With no Slack or Discord credentials in the environment or
# .env, that is a whole breakout session on the local Slack sandbox, with the summary printed.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/breakout-bot run "$@"
