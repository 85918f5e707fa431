#!/usr/bin/env bash
# Fails when proto/gen is stale, when buf lint or buf format finds a problem, or when the
# contract breaks compatibility with the proto on the main branch.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root/proto"
buf="$root/node_modules/.bin/buf"

fresh="$(mktemp -d)"
trap 'rm -rf "$fresh"' EXIT

"$buf" lint
# Our own contracts only; grpc/health is the upstream file verbatim.
"$buf" format --path turnpike --diff --exit-code
"$buf" generate --output "$fresh"
if ! diff -r "$fresh/gen" "$root/proto/gen"; then
  echo "proto/gen is stale: run 'npm run proto:generate' and commit the result" >&2
  exit 1
fi
echo "proto/gen is up to date"

if git -C "$root" rev-parse --verify --quiet main >/dev/null &&
  git -C "$root" cat-file -e main:proto/buf.yaml 2>/dev/null; then
  "$buf" breaking --against "$root/.git#branch=main,subdir=proto"
  echo "no breaking changes against main"
else
  echo "main has no proto/ yet: buf breaking skipped"
fi
