#!/usr/bin/env bash
# What an operator does to a TLS Secret with the real kubectl, against a
# running kube-api-test-server: apply, get, replace, apply again, create
# (kubectl sends that one as protobuf), delete, with `get -w` watching.
# After each step the Secret as the server stored it is read back and
# checked, not only kubectl's exit status: a server that answers 2xx but
# stores the wrong thing, or takes another code path, fails here.
# usage: kubectl_steps.sh SERVER_DIR [NAMESPACE]
#   SERVER_DIR is the server's --dir: its kubeconfig, ca.crt and server
#   files are used, so the kubeconfig the server writes is checked as well.
# One line per step; exit 0 when every step passed.
set -u

srv=${1:?usage: kubectl_steps.sh SERVER_DIR [NAMESPACE]}
ns=${2:-kubectl-steps}
name=steps-tls
work=$(mktemp -d)
watch_pid=""
cleanup() {
  [ -n "$watch_pid" ] && kill "$watch_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

fails=0
out=$work/out  # what the last kubectl write said: shown once, on a failure
pass() { echo "ok    $1"; }
fail() {
  echo "FAIL  $1"
  fails=$((fails + 1))
  if [ -s "$out" ]; then
    sed 's/^/      /' "$out"
    : >"$out"
  fi
}
# check NAME COMMAND...: the step passes when the command succeeds.
check() {
  local what=$1
  shift
  if "$@"; then pass "$what"; else fail "$what"; fi
}

# A discovery cache of its own: ~/.kube/cache may be unwritable, and must
# not answer for this server.
kube=(kubectl --kubeconfig "$srv/kubeconfig" --cache-dir "$work/cache" -n "$ns")
kc() { "${kube[@]}" "$@"; }
counter() {
  curl -sS --cacert "$srv/ca.crt" "$(cat "$srv/server")/testing/counters" |
    sed -n "s/.*\"$1\": *\([0-9]*\).*/\1/p"
}
wait_for() {  # wait_for SECONDS COMMAND...: poll until the command succeeds
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    [ $SECONDS -ge $deadline ] && return 1
    sleep 0.1
  done
}

# Certificate A and its renewal B, for one name.
for c in a b; do
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 7 \
    -subj "/CN=steps.example.test" -addext "subjectAltName=DNS:steps.example.test" \
    -keyout "$work/$c.key" -out "$work/$c.crt" 2>/dev/null ||
    { echo "FAIL  openssl could not make a test certificate"; exit 1; }
done
manifest() {  # manifest SECRET CERT: the YAML kubectl builds client-side
  kc create secret tls "$1" --cert "$work/$2.crt" --key "$work/$2.key" \
    --dry-run=client -o yaml
}
field() { kc get secret "$1" -o "jsonpath={$2}" 2>/dev/null; }
# holds SECRET CERT: the stored tls.crt is that certificate, byte for byte.
holds() { [ "$(field "$1" '.data.tls\.crt' | base64 -d)" = "$(cat "$work/$2.crt")" ]; }
is_tls() { [ "$(field "$1" '.type')" = kubernetes.io/tls ]; }

# get -w: a LIST, then a WATCH from its resourceVersion. Go on only once
# the server counts the watch as open, so no event can be missed.
watches=$(counter open_watches)
# Started without the kc function, so that $! is kubectl itself.
"${kube[@]}" get secrets -w --output-watch-events >"$work/watch.out" 2>&1 &
watch_pid=$!
watch_open() { [ "$(counter open_watches)" -gt "$watches" ]; }
check "get -w opens a watch" wait_for 10 watch_open

manifest "$name" a | kc apply -f - >"$out" 2>&1
check "apply creates the Secret with certificate A" holds "$name" a
check "get reads it back as kubernetes.io/tls" is_tls "$name"
applied() {
  field "$name" '.metadata.annotations.kubectl\.kubernetes\.io/last-applied-configuration' |
    grep -q "\"name\":\"$name\""
}
check "apply recorded its last-applied-configuration" applied

rv=$(field "$name" '.metadata.resourceVersion')
manifest "$name" b | kc replace -f - >"$out" 2>&1
check "replace stores certificate B" holds "$name" b
moved() { [ "$(field "$name" '.metadata.resourceVersion')" != "$rv" ]; }
check "replace moved the resourceVersion" moved

patches=$(counter patch)
manifest "$name" a | kc apply -f - >"$out" 2>&1
check "apply over an existing Secret stores certificate A again" holds "$name" a
patched() { [ "$(counter patch)" -gt "$patches" ]; }
check "that apply was a PATCH" patched

kc create secret tls "$name-2" --cert "$work/b.crt" --key "$work/b.key" >"$out" 2>&1
check "create secret tls (protobuf) stores certificate B" holds "$name-2" b
check "and its type, kubernetes.io/tls" is_tls "$name-2"

delete_it() {
  kc delete secret "$name" --wait=true >"$out" 2>&1 &&
    kc get secret "$name" 2>&1 | grep -q NotFound
}
check "delete removes it: get answers NotFound" delete_it
kc delete secret "$name-2" >/dev/null 2>&1

# saw EVENT N: get -w printed at least N such events for the Secret.
saw() { [ "$(grep -Ec "^$1 +$name " "$work/watch.out")" -ge "$2" ]; }
before=$fails
check "get -w saw it ADDED" wait_for 5 saw ADDED 1
check "get -w saw it MODIFIED twice (replace, apply)" wait_for 5 saw MODIFIED 2
check "get -w saw it DELETED" wait_for 5 saw DELETED 1
if [ $fails != "$before" ]; then
  echo "      get -w printed:"
  sed 's/^/      /' "$work/watch.out"
fi

echo "$fails failed"
[ $fails = 0 ]
