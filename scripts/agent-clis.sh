#!/usr/bin/env bash
# Installs pinned releases of the coding-agent CLIs that tt drives, for the end-to-end agent tests
# (test/agents). They go into a cache outside the repository, one npm prefix per release:
#   ${TT_AGENT_CLI_CACHE:-$HOME/.cache/tt-agent-clis}/<name>@<version>
# A release already there (marker file .tt-installed) is skipped, so running this again is cheap.
# Prints "<name> <version> <binary>" per CLI on stdout; progress and failures go to stderr.
#
# Usage: scripts/agent-clis.sh [--all] [name...]
#   no names: the three CLIs the suite runs (claude codex gemini)
#   --all:    also copilot and auggie (only their --help is tested; failures there are reported,
#             not fatal)
# Pins: each release runs on Node 20 (`npm view <pkg>@<version> engines`: claude-code from 2.1.198
# on declares node >= 22; copilot 1.0.x declares none and runs a native binary, its 0.0.x releases
# wanted node >= 22). Keep in step with AGENT_CLI_PINS in test/helpers/agent-clis.ts (a test checks).
set -euo pipefail

cache="${TT_AGENT_CLI_CACHE:-$HOME/.cache/tt-agent-clis}"

# name|package|version|binary
pins=(
  "claude|@anthropic-ai/claude-code|2.1.197|claude"
  "codex|@openai/codex|0.171.0|codex"
  "gemini|@google/gemini-cli|0.61.0|gemini"
  "copilot|@github/copilot|1.0.102|copilot"
  "auggie|@augmentcode/auggie|0.36.0|auggie"
)
required=(claude codex gemini)
optional=(copilot auggie)

wanted=()
for arg in "$@"; do
  case "$arg" in
    --all) wanted+=("${required[@]}" "${optional[@]}") ;;
    -h | --help)
      sed -n '2,/^set -euo/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *) wanted+=("$arg") ;;
  esac
done
[ ${#wanted[@]} -gt 0 ] || wanted=("${required[@]}")

is_optional() {
  local n
  for n in "${optional[@]}"; do [ "$n" = "$1" ] && return 0; done
  return 1
}

failed=0
for name in "${wanted[@]}"; do
  found=""
  for pin in "${pins[@]}"; do
    IFS='|' read -r n pkg version bin <<<"$pin"
    if [ "$n" = "$name" ]; then found=1 && break; fi
  done
  if [ -z "$found" ]; then
    echo "agent-clis: unknown CLI '$name'" >&2
    exit 2
  fi
  dir="$cache/$name@$version"
  exe="$dir/node_modules/.bin/$bin"
  if [ -f "$dir/.tt-installed" ] && [ -x "$exe" ]; then
    echo "$name $version $exe"
    continue
  fi
  echo "agent-clis: installing $pkg@$version into $dir" >&2
  mkdir -p "$dir"
  if npm install --prefix "$dir" --no-audit --no-fund --loglevel=error \
    "$pkg@$version" >&2 && [ -x "$exe" ]; then
    date -u +%FT%TZ >"$dir/.tt-installed"
    echo "$name $version $exe"
  else
    echo "agent-clis: $pkg@$version did not install" >&2
    if is_optional "$name"; then continue; fi
    failed=1
  fi
done
exit "$failed"
