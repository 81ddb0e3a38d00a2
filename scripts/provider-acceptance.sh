#!/usr/bin/env bash
# Runs the REAL auth0 Terraform provider's own Private Key JWT acceptance tests against a
# rekey sandbox: TestAccClientAuthenticationMethodsPrivateKeyJWT and
# TestAccClientCredentialsPrivateKeyJWTFullRotation (internal/auth0/client).
#
#   scripts/provider-acceptance.sh [PROVIDER_SOURCE_TARBALL]
#
# The tarball (terraform-provider-auth0-X.Y.Z.tar.gz) comes from the argument, else
# $REKEY_PROVIDER_TARBALL, else ../shared/tools/auth0-provider/terraform-provider-auth0-1.54.1.tar.gz
# beside the repository. It is unpacked once into
# ${REKEY_CI_CACHE:-~/.cache/rekey-ci}/provider-src/; the provider's Go dependencies come from
# the module proxy. The script builds rekey, starts `rekey sandbox --no-terraform --pool-cap 4`
# in a temporary folder, runs exactly those two tests with the sandbox's environment, stops
# the sandbox and exits with the tests' status. Skipped tests are a failure.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tarball=${1:-${REKEY_PROVIDER_TARBALL:-$root/../shared/tools/auth0-provider/terraform-provider-auth0-1.54.1.tar.gz}}
cache="${REKEY_CI_CACHE:-$HOME/.cache/rekey-ci}/provider-src"
tests=(TestAccClientAuthenticationMethodsPrivateKeyJWT TestAccClientCredentialsPrivateKeyJWTFullRotation)

[ -f "$tarball" ] || { echo "provider source tarball not found: $tarball" >&2; exit 2; }
tarball=$(cd "$(dirname "$tarball")" && pwd)/$(basename "$tarball")
name=$(basename "$tarball" .tar.gz)
src="$cache/$name"

work=$(mktemp -d)
sandbox_pid=""
cleanup() {
  if [ -n "$sandbox_pid" ] && kill -0 "$sandbox_pid" 2>/dev/null; then
    kill "$sandbox_pid"
    wait "$sandbox_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

if [ ! -d "$src" ]; then
  echo "unpacking $name into $cache (once)"
  mkdir -p "$cache"
  unpack=$(mktemp -d "$cache/.unpack.XXXXXX")
  tar -xzf "$tarball" -C "$unpack"
  [ -d "$unpack/$name" ] || { echo "$tarball holds no $name/ folder" >&2; rm -rf "$unpack"; exit 2; }
  mv "$unpack/$name" "$src"
  rm -rf "$unpack"
fi

echo "building rekey"
(cd "$root" && go build -o "$work/rekey" .)

"$work/rekey" sandbox --dir "$work/sandbox" --no-terraform --pool-cap 4 >"$work/sandbox.log" 2>&1 &
sandbox_pid=$!
for _ in $(seq 1 600); do
  grep -q "rekey sandbox ready" "$work/sandbox.log" && break
  kill -0 "$sandbox_pid" 2>/dev/null || { echo "the sandbox stopped before it was ready:" >&2; cat "$work/sandbox.log" >&2; exit 1; }
  sleep 0.1
done
grep -q "rekey sandbox ready" "$work/sandbox.log" || { echo "the sandbox was not ready after 60 s:" >&2; cat "$work/sandbox.log" >&2; exit 1; }
head -1 "$work/sandbox.log"

# shellcheck source=/dev/null
source "$work/sandbox/env"
export TF_ACC=1 AUTH0_HTTP_RECORDINGS=off GOFLAGS=-mod=mod
export TF_ACC_TERRAFORM_PATH=${TF_ACC_TERRAFORM_PATH:-$(command -v terraform || echo /usr/local/bin/terraform)}

pattern="^($(IFS='|'; echo "${tests[*]}"))\$"
echo "go test -v -run '$pattern' -count=1 ./internal/auth0/client/ (in $src)"
status=0
(cd "$src" && go test -v -run "$pattern" -count=1 ./internal/auth0/client/) 2>&1 | tee "$work/test.log" || status=$?

if grep -q -- "--- SKIP" "$work/test.log"; then
  echo "FAIL: acceptance tests were skipped" >&2
  [ "$status" -ne 0 ] || status=1
fi
for t in "${tests[@]}"; do
  if ! grep -q -- "--- PASS: $t " "$work/test.log"; then
    echo "FAIL: $t did not pass" >&2
    [ "$status" -ne 0 ] || status=1
  fi
done
exit "$status"
