#!/usr/bin/env bash
# The browser tests (tests/test_browser.py) drive Debian's chromium; install it when missing.
set -euo pipefail
command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium)
