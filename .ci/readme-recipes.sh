#!/usr/bin/env bash
# Runs every shell block of README.md's "grpcurl recipes" section, as written and in order,
# in one shell against a fresh all-in-one gateway, so that a recipe that breaks fails CI.
# Usage: .ci/readme-recipes.sh PATH/TO/gateway
set -euo pipefail
readme="$(realpath "$(dirname "$0")/../README.md")"
fail() { echo "FAIL: $*" >&2; exit 1; }
source "$(dirname "$0")/start-gateway.sh"

recipes="$(mktemp)"
python3 - "$readme" >"$recipes" <<'PY'
import re, sys
text = open(sys.argv[1], encoding="utf-8").read()
section = re.search(r"^## grpcurl recipes\n(.*?)(?=^## )", text, re.S | re.M)
if not section:
    sys.exit("README.md has no '## grpcurl recipes' section")
blocks = re.findall(r"^```sh\n(.*?)^```", section.group(1), re.S | re.M)
if not blocks:
    sys.exit("the recipes section has no sh blocks")
print("\n".join(blocks))
PY
blocks="$(grep -c '' "$recipes")"

start_gateway "$1"
# -x prints each recipe before its output; errexit and pipefail make a failed call fail CI.
if ! ADMIN_PASSWORD="$password" bash -o errexit -o nounset -o pipefail -x "$recipes"; then
  tail -n 40 gateway.log
  fail "a README recipe failed (the last command printed above)"
fi
echo "readme recipes: all $blocks lines ran"
