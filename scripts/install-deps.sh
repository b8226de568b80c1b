#!/usr/bin/env bash
# Installs the Debian 12 packages certsync needs to build, test and demo.
# Idempotent: only missing packages are installed (as root, or through sudo).
set -euo pipefail

packages=(
  # build
  g++ make cmake pkg-config
  libcurl4-openssl-dev libssl-dev nlohmann-json3-dev libyaml-cpp-dev
  # tests and the Kubernetes API test server
  catch2 libcpp-httplib-dev lua-busted lua-dkjson curl openssl procps
  # metrics: promtool checks the exposition and the alert rules; the e2e
  # scrapes a real Prometheus server
  prometheus
  # nginx with lua-nginx-module, as the plugin runs in the specs and the demo
  nginx-light libnginx-mod-http-lua lua-resty-core luajit2
  # cjson, which OpenResty and Kong bundle: the status is built with it
  lua-cjson
  # two LuaJIT VMs in one process (tests/lua_vms), as Kong's http and stream VMs
  libluajit2-5.1-dev
  # the rock
  luarocks
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  echo "certsync: installing Debian packages: ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" = 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  # nginx's package would start a system nginx on port 80; the project starts its own.
  DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v kubectl >/dev/null; then
  echo "certsync: kubectl is not installed and Debian 12 does not package it;" >&2
  echo "          install kubectl (1.26 or newer) and run this again." >&2
  exit 1
fi
