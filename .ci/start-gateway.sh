# Sourced by the CI scripts that talk to a real all-in-one gateway: starts BINARY in a new
# empty folder (its working directory, where ./data appears) with a known administrator
# password, waits until it answers `grpcurl list`, and stops it on exit.
# Sets: binary, address, password, workdir, pid. Needs: fail (prints and exits).
start_gateway() { # start_gateway BINARY
  binary="$(realpath "$1")"
  address="127.0.0.1:50051"
  password="ci-admin-password"
  workdir="$(mktemp -d)"
  trap 'kill "$pid" 2>/dev/null || true; rm -rf "$workdir"' EXIT
  cd "$workdir"
  PORTAL__BOOTSTRAP__ADMIN_PASSWORD="$password" "$binary" >gateway.log 2>&1 &
  pid=$!
  for _ in $(seq 1 100); do
    grpcurl -plaintext "$address" list >/dev/null 2>&1 && return 0
    kill -0 "$pid" 2>/dev/null || { cat gateway.log; fail "the gateway exited"; }
    sleep 0.2
  done
  cat gateway.log
  fail "the gateway did not answer within 20 s"
}
