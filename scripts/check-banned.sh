#!/usr/bin/env bash
# Fails when agent/ uses a function the project bans (../shared/style.md):
# unbounded string functions, atoi, and anything that runs a shell string.
set -euo pipefail
dir=${1:-$(dirname "$0")/../agent}
pattern='\b(sprintf|vsprintf|strcpy|strcat|strtok|atoi|system|popen|gets)[[:space:]]*\('
# Strip // and /* */ comments on the line before matching, so prose may name them.
hits=$(grep -rnE --include='*.c' --include='*.h' "$pattern" "$dir" \
	| sed -E 's#/\*.*\*/##; s#//.*$##' | grep -E "$pattern" || true)
if [ -n "$hits" ]; then
	echo "banned functions used in $dir:" >&2
	echo "$hits" >&2
	exit 1
fi
echo "no banned functions in $dir"
