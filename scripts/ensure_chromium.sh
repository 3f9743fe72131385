#!/usr/bin/env bash
# Installs Debian's Chromium (+ driver and a CJK font so Chinese pages render) when missing, and the
# TrueType CJK font (fonts-wqy-zenhei) that PDFs embed (governance/pdf_fonts.py).
# Playwright drives /usr/bin/chromium; no browser is ever downloaded by a test tool.
set -euo pipefail
if [ -x /usr/bin/chromium ] && fc-list 2>/dev/null | grep -qi "Noto Sans CJK" \
  && [ -f /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc ]; then
  exit 0
fi
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null; then
  echo "ensure_chromium: /usr/bin/chromium is missing and apt-get is not usable here;" >&2
  echo "install the Debian packages chromium, chromium-driver, fonts-noto-cjk and fonts-wqy-zenhei." >&2
  exit 1
fi
echo "ensure_chromium: installing chromium, chromium-driver, fonts-noto-cjk, fonts-wqy-zenhei from Debian's packages"
export DEBIAN_FRONTEND=noninteractive
for attempt in 1 2 3; do
  if apt-get update -qq && apt-get install -y -qq chromium chromium-driver fonts-noto-cjk fonts-wqy-zenhei >/dev/null; then
    exit 0
  fi
  echo "ensure_chromium: attempt $attempt failed, retrying" >&2
  sleep 5
done
exit 1
