#!/usr/bin/env bash
# Set up, then run the whole test suite. Set BREAKOUT_TEST_DATABASE_URL to run the database tests
# on PostgreSQL too (CI does); tests that need chromium or ../shared skip where those are absent.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python -m pytest "$@"
