#!/usr/bin/env bash
# Bytes on the wire for the console's pages, as a browser fetches them from a running gongzhi.
#
#   scripts/measure-wire.sh [BASE_URL] [VIEW ...]
#
# BASE_URL defaults to http://127.0.0.1:8080. The login page is index.html (fetched at /login)
# with everything it references (scripts, module preloads, style sheets, the icon) and every
# script those import statically. Each VIEW (a route chunk's name, e.g. CaseStatsView) adds its
# chunk, the chunks it imports statically, and their style sheets; the figure is what it adds to
# the login page, plus what its code fetches when it runs (dynamic imports outside the entry
# script: ECharts is fetched when a chart mounts). Every file is fetched once per encoding (none, gzip, br) with curl; a figure is
# the body bytes received plus the response headers (no TCP/TLS overhead).
set -euo pipefail

base="${1:-http://127.0.0.1:8080}"
shift || true
views=("$@")
encodings=(identity gzip br)

fetch() { # path → body
  curl -sf "$base$1"
}

# Every /assets/… or /favicon… path referenced by a text.
refs() {
  grep -oE '(/assets/[A-Za-z0-9_.-]+|/favicon\.svg)' || true
}

# Imports of a script: from"./x.js" and import"./x.js"; with "dynamic", also import(`./x.js`).
imports() {
  local re='(from|import) ?"\./[A-Za-z0-9_.-]+\.js"'
  [[ "${1:-}" == dynamic ]] && re="$re|import\(.\./[A-Za-z0-9_.-]+\.js.\)"
  grep -oE "$re" | sed -E 's/.*\.\/([A-Za-z0-9_.-]+\.js).*/\/assets\/\1/' || true
}

# The scripts reachable from $@ by imports (the paths themselves included); dynamic imports are
# followed when $mode is "dynamic", except in the entry script (its are the routes).
closure() {
  local mode="$1"
  shift
  local -A seen=()
  local todo=("$@") p
  while ((${#todo[@]})); do
    p="${todo[0]}"
    todo=("${todo[@]:1}")
    [[ -n "${seen[$p]:-}" ]] && continue
    seen[$p]=1
    if [[ "$p" == *.js ]]; then
      while read -r q; do
        [[ -n "$q" && -z "${seen[$q]:-}" ]] && todo+=("$q")
      done < <(fetch "$p" | if [[ "$p" == "${main_js:-}" ]]; then imports; else imports "$mode"; fi)
    fi
  done
  printf '%s\n' "${!seen[@]}" | sort
}

# Bytes (body + headers) of one path in one encoding.
size() {
  curl -s -o /dev/null -H "Accept-Encoding: $2" -w '%{size_download} %{size_header}' "$base$1" |
    awk '{ print $1 + $2 }'
}

total() { # encoding, paths…
  local enc="$1" sum=0 p
  shift
  for p in "$@"; do
    sum=$((sum + $(size "$p" "$enc")))
  done
  echo "$sum"
}

kib() { awk -v b="$1" 'BEGIN { printf "%.1f KiB", b / 1024 }'; }

index=$(fetch /login)
entry=$(echo "$index" | refs | sort -u)
main_js=$(echo "$entry" | grep -E '/assets/index-.*\.js$' | head -1)
mapfile -t login < <(closure static $entry)
login=(/login "${login[@]}")
main_text=$(fetch "$main_js")

echo "$base — $(date -u +%Y-%m-%dT%H:%MZ)"
printf '%-28s %6s' "page" "files"
for e in "${encodings[@]}"; do printf ' %14s' "$e"; done
echo
printf '%-28s %6s' "login (/login)" "${#login[@]}"
for e in "${encodings[@]}"; do printf ' %14s' "$(kib "$(total "$e" "${login[@]}")")"; done
echo

for v in "${views[@]}"; do
  chunk=$(echo "$main_text" | grep -oE "\./$v-[A-Za-z0-9_-]+\.js" | head -1 | sed 's/^\./\/assets/')
  if [[ -z "$chunk" ]]; then
    echo "$v: no such route chunk" >&2
    continue
  fi
  mapfile -t scripts < <(closure dynamic "$chunk")
  extra=()
  for p in "${scripts[@]}"; do
    printf '%s\n' "${login[@]}" | grep -qxF "$p" && continue
    extra+=("$p")
    stem=$(basename "$p" | sed -E 's/-[A-Za-z0-9_]+\.js$//')
    while read -r css; do
      [[ -n "$css" ]] && ! printf '%s\n' "${login[@]}" "${extra[@]}" | grep -qxF "$css" && extra+=("$css")
    done < <(echo "$main_text" | grep -oE "assets/$stem-[A-Za-z0-9_-]+\.css" | sed 's/^/\//' | sort -u)
  done
  printf '%-28s %6s' "+ $v" "${#extra[@]}"
  for e in "${encodings[@]}"; do printf ' %14s' "$(kib "$(total "$e" "${extra[@]}")")"; done
  echo
done
