#!/usr/bin/env bash
# Exported symbols of libnonroot.so == functions declared NR_EXTERN in the public headers.
set -euo pipefail
lib=$1 inc=$2
exported=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBRVW]$/ {sub(/@.*/, "", $3); print $3}' | grep -v '^LIBNONROOT_' | sort -u)
declared=$(grep -rhoE 'NR_EXTERN\([^)]*\)[[:space:]]*\**[[:space:]]*nr_[a-z0-9_]+' "$inc" |
	grep -oE 'nr_[a-z0-9_]+$' | sort -u)
bad=$(echo "$exported" | grep -v '^nr_[a-z0-9]' || true)
if [ -n "$bad" ]; then echo "symbols exported outside the nr_ namespace:"; echo "$bad"; exit 1; fi
missing=$(comm -13 <(echo "$exported") <(echo "$declared"))
extra=$(comm -23 <(echo "$exported") <(echo "$declared"))
if [ -n "$missing" ]; then echo "declared NR_EXTERN but not exported:"; echo "$missing"; exit 1; fi
if [ -n "$extra" ]; then echo "exported but not declared in a public header:"; echo "$extra"; exit 1; fi
echo "symbols: $(echo "$exported" | wc -l) exported, all declared"
