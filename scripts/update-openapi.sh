#!/usr/bin/env bash
# Rewrites openapi/openapi.json from the code (the drift test compares the two).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo run --quiet -- openapi > openapi/openapi.json.tmp
mv openapi/openapi.json.tmp openapi/openapi.json
echo "openapi/openapi.json updated"
