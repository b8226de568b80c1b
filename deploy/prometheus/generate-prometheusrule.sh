#!/usr/bin/env bash
# Writes certsync-prometheusrule.yaml, the Prometheus Operator form of
# certsync-rules.yaml, so the two can never say different things: the plain
# file's `groups:` (its leading comment block dropped) becomes the
# PrometheusRule's spec, indented by two spaces and otherwise byte for byte.
# No YAML tool is needed, and spec/unit/prometheus_rules_spec.lua can undo the
# indentation to get the plain file back.
#
#   generate-prometheusrule.sh [--check] [RULES [OUT]]
#
# --check writes nothing: it exits 1, with a diff, when OUT is not what RULES
# generates (run the script without --check to update it).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
check=0
if [ "${1:-}" = --check ]; then check=1; shift; fi
rules=${1:-$here/certsync-rules.yaml}
out=${2:-$here/certsync-prometheusrule.yaml}

generate() {
  cat <<'HEADER'
# Generated from certsync-rules.yaml by generate-prometheusrule.sh: edit that
# file and run the script; do not edit this one.
#
# The Prometheus Operator loads a PrometheusRule only when its labels match the
# Prometheus resource's ruleSelector, and its namespace the
# ruleNamespaceSelector. kube-prometheus-stack (Helm) selects
# `release: <its Helm release name>`: `kube-prometheus-stack` below is that
# chart's usual release name, change it to yours (`kubectl get prometheus -A
# -o jsonpath='{..ruleSelector}'` shows what yours selects). The jsonnet
# kube-prometheus selects every PrometheusRule in its recent releases (older
# ones: `prometheus: k8s` and `role: alert-rules`).
# Apply it in the namespace Kong runs in, or the monitoring namespace:
#   kubectl apply -n monitoring -f certsync-prometheusrule.yaml
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata:
  name: certsync
  labels:
    app.kubernetes.io/name: certsync
    release: kube-prometheus-stack
spec:
HEADER
  # Drop the leading comments and blank lines, then indent every non-empty
  # line (empty ones stay empty, so no trailing blanks appear).
  awk 'started || !/^(#|[[:space:]]*$)/ { started = 1; if ($0 == "") print ""; else print "  " $0 }' "$rules"
}

if [ "$check" = 1 ]; then
  if ! diff -u "$out" <(generate); then
    echo "$out is not what $rules generates: run $0" >&2
    exit 1
  fi
else
  generate >"$out"
fi
