#!/usr/bin/env bash
# Set up a fresh machine for carepress: WeasyPrint's system libraries (with HarfBuzz's
# subsetter, which makes PDF font subsetting 3-7x faster), Redis for the queue, Chromium and the
# npm packages of the accessibility test (tests/a11y), and .venv.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 redis-server chromium)
# poppler-utils: the PDF tests read layout and filled fields back with pdftotext/pdftocairo.
packages+=(poppler-utils)
# Java runs the Nu HTML Checker (vnu-jar, tests/test_html_validity.py).
command -v java >/dev/null || packages+=(openjdk-17-jre-headless)
# Node.js with npm runs axe-core (tests/a11y); Debian's packages only where there is no npm yet.
command -v npm >/dev/null || packages+=(nodejs npm)

if command -v dpkg-query >/dev/null; then
  missing=()
  for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" ||
      missing+=("$package")
  done
  if ((${#missing[@]})); then
    echo "setup: installing ${missing[*]}" >&2
    sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
      "${missing[@]}" >/dev/null
  fi
else
  echo "setup: not a Debian system; install Pango, HarfBuzz (with libharfbuzz-subset)," \
       "Redis, Chromium and Node.js with your package manager" >&2
fi

# axe-core and playwright-core, exactly as locked; again only when package.json or the lock file
# changed. --ignore-scripts: nothing may download a browser (the test drives /usr/bin/chromium).
lock_sum="$(cat tests/a11y/package.json tests/a11y/package-lock.json | sha256sum | cut -d' ' -f1)"
stamp=tests/a11y/node_modules/.carepress-lock-sha256
if ! command -v npm >/dev/null; then
  echo "setup: npm not found; tests/test_accessibility.py will fail until Node.js is installed" >&2
elif [ "$(cat "$stamp" 2>/dev/null)" != "$lock_sum" ]; then
  echo "setup: installing tests/a11y's npm packages" >&2
  npm ci --prefix tests/a11y --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null
  echo "$lock_sum" >"$stamp"
fi
# Lighthouse for bench/lighthouse.py (its own folder: a benchmark, not a test dependency).
lh_sum="$(cat bench/lighthouse/package.json bench/lighthouse/package-lock.json | sha256sum | cut -d' ' -f1)"
lh_stamp=bench/lighthouse/node_modules/.carepress-lock-sha256
if command -v npm >/dev/null && [ "$(cat "$lh_stamp" 2>/dev/null)" != "$lh_sum" ]; then
  echo "setup: installing bench/lighthouse's npm packages" >&2
  npm ci --prefix bench/lighthouse --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null
  echo "$lh_sum" >"$lh_stamp"
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".[dev]"
echo "setup: ready (.venv/bin/carepress)" >&2
