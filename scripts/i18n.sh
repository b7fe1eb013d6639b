#!/usr/bin/env bash
# Translation catalogs. `extract` collects the strings of templates and generator code into
# templates/locale/messages.pot and merges them into every language's .po; `compile` checks
# that every catalog compiles; `init LANG` starts a new language.
set -euo pipefail
cd "$(dirname "$0")/.."
pybabel=.venv/bin/pybabel
[ -x "$pybabel" ] || pybabel=pybabel
locale=templates/locale
case "${1:-}" in
  extract)
    "$pybabel" extract -F babel.cfg --no-location --sort-output --omit-header \
      -o "$locale/messages.pot" generator templates
    for po in "$locale"/*/LC_MESSAGES/messages.po; do
      "$pybabel" update --no-fuzzy-matching --ignore-pot-creation-date -i "$locale/messages.pot" -o "$po" \
        -l "$(basename "$(dirname "$(dirname "$po")")")"
    done ;;
  compile)
    for po in "$locale"/*/LC_MESSAGES/messages.po; do
      "$pybabel" compile --statistics -i "$po" -o /dev/null
    done ;;
  init)
    "$pybabel" init -i "$locale/messages.pot" -l "$2" -o "$locale/$2/LC_MESSAGES/messages.po" ;;
  *) echo "usage: scripts/i18n.sh extract | compile | init LANG" >&2; exit 2 ;;
esac
