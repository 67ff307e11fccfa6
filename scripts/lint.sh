#!/usr/bin/env bash
# The habits CI keeps: ruff's rules and formatting, and mypy, over bot/ (config in pyproject.toml).
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/ruff check bot
.venv/bin/ruff format --check bot
.venv/bin/mypy
