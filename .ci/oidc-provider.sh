#!/usr/bin/env bash
# Installs the OpenID Connect provider the single sign-on tests run against
# (`oidc-provider-mock` from PyPI, pinned) into a venv under target/, and
# prints the path of its command: the tests start it themselves.
#
# Usage: export OPCITY_OIDC_PROVIDER_MOCK="$(bash .ci/oidc-provider.sh)"
set -euo pipefail
cd "$(dirname "$0")/.."
version="0.3.4"
venv="target/oidc-provider-venv"
if [ ! -x "$venv/bin/oidc-provider-mock" ] || ! "$venv/bin/pip" show oidc-provider-mock 2>/dev/null | grep -q "^Version: $version$"; then
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet "oidc-provider-mock==$version" >&2
fi
echo "$PWD/$venv/bin/oidc-provider-mock"
