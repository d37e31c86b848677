#!/usr/bin/env bash
# Regenerate plan.json with the real terraform CLI (1.11, AWS provider 5.x from a local mirror):
# no AWS account is needed, the provider is told not to call AWS.
set -euo pipefail
cd "$(dirname "$0")"
work=$(mktemp -d)
cp main.tf "$work"
(cd "$work" && terraform init -input=false -no-color >/dev/null && terraform plan -input=false -no-color -out=plan.out >/dev/null \
  && terraform show -json plan.out) | python3 -m json.tool --indent 1 > plan.json
rm -rf "$work"
