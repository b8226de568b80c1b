#!/usr/bin/env bash
# Smoke test of kube-api-test-server: starts it in a temp dir, drives it with
# the real kubectl (kubectl_steps.sh, beside this file) and with curl, and
# stops it. Exit 0 when every check passed, 1 otherwise, 77 (CTest "skipped")
# when a tool it needs is missing.
# usage: smoke_test.sh [path/to/kube-api-test-server]
set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(git -C "$here" rev-parse --show-toplevel 2>/dev/null || (cd "$here/../.." && pwd))
server_bin=${1:-$top/build/tests/kube_api_server/kube-api-test-server}
# Our own checkouts also have shared acceptance scripts beside the
# repository (../shared from its root); a clone without them runs the
# project's own steps only.
acceptance=${CERTSYNC_ACCEPTANCE_DIR:-$top/../shared/acceptance}

for tool in curl kubectl openssl; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool not installed"; exit 77; }
done
[ -x "$server_bin" ] || { echo "FAIL: no server binary at $server_bin"; exit 1; }

work=$(mktemp -d)
server_pid="" watch_pid=""
cleanup() {
  [ -n "$watch_pid" ] && kill "$watch_pid" 2>/dev/null
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null
    wait "$server_pid" 2>/dev/null
  fi
  rm -rf "$work"
}
trap cleanup EXIT

fails=0
ok() { echo "ok    $1"; }
bad() { echo "FAIL  $1"; fails=$((fails + 1)); }

token=smoke-token-$$
"$server_bin" --dir "$work/srv" --token "$token" --bookmark-interval-ms 500 \
  2>"$work/server.log" &
server_pid=$!

# Ready when DIR/server exists (written last, atomically).
deadline=$((SECONDS + 20))
until [ -s "$work/srv/server" ]; do
  if ! kill -0 "$server_pid" 2>/dev/null || [ $SECONDS -ge $deadline ]; then
    echo "FAIL  server did not start"; tail -20 "$work/server.log"; exit 1
  fi
  sleep 0.05
done
url=$(cat "$work/srv/server")
ca=$work/srv/ca.crt
ok "server ready at $url"

api() { curl -sS --cacert "$ca" -H "Authorization: Bearer $token" "$@"; }
status_of() { curl -sS -o "$work/body" -w '%{http_code}' --cacert "$ca" "$@"; }

# 1. The real kubectl: apply, replace, patch, protobuf create, watch, delete,
# through the kubeconfig the server wrote.
if bash "$here/kubectl_steps.sh" "$work/srv" kubectl-steps >"$work/kubectl.out" 2>&1; then
  ok "kubectl_steps.sh"
else
  bad "kubectl_steps.sh"
fi
sed 's/^/      /' "$work/kubectl.out"
# The shared acceptance script, as an extra where it exists.
if [ -f "$acceptance/kubectl-smoke.sh" ]; then
  if bash "$acceptance/kubectl-smoke.sh" "$url" "$ca" "$token" default >"$work/kubectl.out" 2>&1; then
    ok "$acceptance/kubectl-smoke.sh"
  else
    bad "$acceptance/kubectl-smoke.sh"
  fi
  sed 's/^/      /' "$work/kubectl.out"
fi

# 2. No token, or a wrong one: 401 with the real server's Status body.
code=$(status_of "$url/api/v1/namespaces/default/secrets")
if [ "$code" = 401 ] && grep -q '"reason": *"Unauthorized"' "$work/body"; then
  ok "401 without a token"
else
  bad "401 without a token (got $code: $(head -c 200 "$work/body"))"
fi
code=$(status_of -H "Authorization: Bearer wrong" "$url/api/v1/namespaces/default/secrets")
[ "$code" = 401 ] && ok "401 with a wrong token" || bad "401 with a wrong token (got $code)"

# 3. A watch sees an ADDED event for a Secret created after it opened.
open_watches() { api "$url/testing/counters" | sed -n 's/.*"open_watches": *\([0-9]*\).*/\1/p'; }
# The shared kubectl-smoke.sh may leave its `get -w` running until the
# server stops, or end it as it finishes: wait (2 s at most) for it to
# close, so that it cannot close between the counts below, then count from
# what is open now.
deadline=$((SECONDS + 2))
until [ "$(open_watches)" = 0 ] || [ $SECONDS -ge $deadline ]; do sleep 0.1; done
watches_before=$(open_watches)
rv=$(api "$url/api/v1/namespaces/smoke/secrets" | sed -n 's/.*"resourceVersion": *"\([0-9]*\)".*/\1/p' | head -1)
curl -sS -N --cacert "$ca" -H "Authorization: Bearer $token" \
  "$url/api/v1/namespaces/smoke/secrets?watch=true&resourceVersion=$rv&allowWatchBookmarks=true&timeoutSeconds=10" \
  >"$work/watch.out" 2>&1 &
watch_pid=$!
sleep 0.5
api -X POST -H 'Content-Type: application/json' \
  -d '{"apiVersion":"v1","kind":"Secret","metadata":{"name":"w1"},"stringData":{"k":"v"}}' \
  "$url/api/v1/namespaces/smoke/secrets" >/dev/null
deadline=$((SECONDS + 10))
until grep -q '"type":"ADDED".*"name":"w1"' "$work/watch.out" 2>/dev/null || [ $SECONDS -ge $deadline ]; do
  sleep 0.1
done
if grep -q '"type":"ADDED".*"name":"w1"' "$work/watch.out"; then
  ok "watch received ADDED"
else
  bad "watch received no ADDED: $(head -c 300 "$work/watch.out")"
fi
if grep -q '"type":"BOOKMARK"' "$work/watch.out" || { sleep 1; grep -q '"type":"BOOKMARK"' "$work/watch.out"; }; then
  ok "watch received BOOKMARK"
else
  bad "watch received no BOOKMARK"
fi
if [ "$(open_watches)" = $((watches_before + 1)) ]; then
  ok "counters report the open watch"
else
  bad "counters: $(api "$url/testing/counters" | tr -d '\n ')"
fi
kill "$watch_pid" 2>/dev/null; wait "$watch_pid" 2>/dev/null; watch_pid=""
# The server notices the client hung up, well before timeoutSeconds.
deadline=$((SECONDS + 3))
until [ "$(open_watches)" = "$watches_before" ] || [ $SECONDS -ge $deadline ]; do sleep 0.1; done
if [ "$(open_watches)" = "$watches_before" ]; then
  ok "watch closed when its client went away"
else
  bad "watch still counted open after its client went away"
fi

# 4. A queued fault: the next LIST gets 429 with Retry-After, the one after 200.
api -X POST -d '{"status":429,"retry_after":2,"count":1}' "$url/testing/faults" >/dev/null
code=$(curl -sS -D "$work/headers" -o /dev/null -w '%{http_code}' --cacert "$ca" \
  -H "Authorization: Bearer $token" "$url/api/v1/namespaces/smoke/secrets")
code2=$(status_of -H "Authorization: Bearer $token" "$url/api/v1/namespaces/smoke/secrets")
if [ "$code" = 429 ] && grep -qi '^retry-after: 2' "$work/headers" && [ "$code2" = 200 ]; then
  ok "injected 429 with Retry-After, then 200"
else
  bad "injected 429 (got $code then $code2)"
fi

# 5. Watch faults: after the ADDED of what exists, one event of an unknown
# type, then one of exactly 100000 bytes, in a watch that lasts 1 s.
api -X POST -d '{"verb":"watch","unknown_event_type":"WEIRD","oversize_event_bytes":100000}' \
  "$url/testing/faults" >/dev/null
api "$url/api/v1/namespaces/smoke/secrets?watch=true&timeoutSeconds=1" >"$work/faulty.out" 2>&1
lengths=$(awk '{ printf "%s%d", (NR > 1 ? " " : ""), length($0) }' "$work/faulty.out")
if grep -q '^{"type":"WEIRD"' "$work/faulty.out" && [ "${lengths##* }" = 100000 ]; then
  ok "watch faults: unknown event type, oversize event"
else
  bad "watch faults (line lengths: $lengths): $(head -c 200 "$work/faulty.out")"
fi

# 6. SIGTERM: a clean, prompt exit that removes the readiness files.
kill -TERM "$server_pid"
deadline=$((SECONDS + 5))
while kill -0 "$server_pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.05; done
if kill -0 "$server_pid" 2>/dev/null; then
  bad "server still running 5 s after SIGTERM"
else
  wait "$server_pid"; rc=$?; server_pid=""
  [ $rc = 0 ] && [ ! -e "$work/srv/server" ] && ok "clean exit on SIGTERM" || bad "exit status $rc on SIGTERM"
fi

if [ $fails != 0 ]; then
  echo "--- server log (last 30 lines)"; tail -30 "$work/server.log"
fi
echo "$fails failed"
[ $fails = 0 ]
