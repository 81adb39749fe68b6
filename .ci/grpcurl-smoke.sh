#!/usr/bin/env bash
# Starts the all-in-one gateway binary in an empty folder and checks it with a real
# grpcurl, as a newcomer would: list, describe, health, login, whoami, logout, SIGTERM.
# Usage: .ci/grpcurl-smoke.sh PATH/TO/gateway
set -euo pipefail
passed=0
fail() { echo "FAIL: $*" >&2; echo "smoke: $passed passed, 1 failed"; exit 1; }
ok() { passed=$((passed + 1)); echo "ok: $1"; }
expect() { # expect NAME NEEDLE TEXT
  grep -qF -- "$2" <<<"$3" || fail "$1: expected '$2' in: $3"
  ok "$1"
}
source "$(dirname "$0")/start-gateway.sh"
start_gateway "$1"

services="$(grpcurl -plaintext "$address" list)"
for service in portal.identity.v1.SessionService portal.access.v1.PermissionService portal.case.v1.CaseService \
  portal.partner.v1.PartnerProgramService portal.notify.v1.TemplateService grpc.health.v1.Health \
  grpc.reflection.v1alpha.ServerReflection; do
  expect "list shows $service" "$service" "$services"
done
grep -q InternalService <<<"$services" && fail "an internal service is listed"

expect "health" '"status": "SERVING"' "$(grpcurl -plaintext "$address" grpc.health.v1.Health/Check)"
expect "describe documents Login" "wrong password, an unknown email" \
  "$(grpcurl -plaintext "$address" describe portal.identity.v1.SessionService)"
expect "describe documents messages" "The user's email address" \
  "$(grpcurl -plaintext "$address" describe portal.identity.v1.LoginRequest)"

login="$(grpcurl -plaintext -d "{\"email\": \"admin@portal.local\", \"password\": \"$password\"}" \
  "$address" portal.identity.v1.SessionService/Login)"
token="$(python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])' <<<"$login")"
[ -n "$token" ] || fail "no token in $login"
ok "login"

expect "whoami" '"email": "admin@portal.local"' \
  "$(grpcurl -plaintext -H "authorization: Bearer $token" "$address" portal.identity.v1.SessionService/WhoAmI)"
expect "whoami without a token" "Unauthenticated" \
  "$(grpcurl -plaintext "$address" portal.identity.v1.SessionService/WhoAmI 2>&1 || true)"
expect "wrong password" "Unauthenticated" \
  "$(grpcurl -plaintext -d '{"email": "admin@portal.local", "password": "wrong password here"}' \
    "$address" portal.identity.v1.SessionService/Login 2>&1 || true)"
expect "field violations are printed" "email" \
  "$(grpcurl -plaintext -d '{"password": "x"}' "$address" portal.identity.v1.SessionService/Login 2>&1 || true)"
grpcurl -plaintext -H "authorization: Bearer $token" "$address" portal.identity.v1.SessionService/Logout >/dev/null
expect "whoami after logout" "Unauthenticated" \
  "$(grpcurl -plaintext -H "authorization: Bearer $token" "$address" portal.identity.v1.SessionService/WhoAmI 2>&1 || true)"

grep -q $'\e' gateway.log && fail "colour codes in a log that is not a terminal"
ok "no colour codes in the log file"

# A first start without a configured password: the generated one goes to standard error only.
mkdir first-start
cd first-start
PORTAL__LISTEN=127.0.0.1:50052 "$binary" >stdout.log 2>stderr.log &
first_pid=$!
for _ in $(seq 1 100); do grep -q "password:" stderr.log && break; sleep 0.2; done
kill -TERM "$first_pid"
wait "$first_pid" || true
cd ..
expect "the first start's password on standard error" "password:" "$(cat first-start/stderr.log)"
grep -q "password:" first-start/stdout.log && fail "the administrator password reached the log stream"
ok "the administrator password stays out of the log stream"

kill -TERM "$pid"
status=0
wait "$pid" || status=$?
[ "$status" -eq 0 ] || { cat gateway.log; fail "the gateway exited with $status after SIGTERM"; }
ok "SIGTERM drains and exits 0"
echo "smoke: $passed passed, 0 failed"
