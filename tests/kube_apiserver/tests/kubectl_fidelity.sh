#!/bin/sh
# Drives the test API server with the real kubectl: create, replace, get -o json,
# get -w (in the background, must print the update), apply, patch, delete.
# Exit code 77 (CTest SKIP_RETURN_CODE) when kubectl, python3 or openssl is missing.
set -u
SCRIPT_DIR=$(cd "$(dirname "$0")" && pwd)
SERVER="${CROSSOVER_FAKE_APISERVER:-$SCRIPT_DIR/../fake_kube_apiserver.py}"
KUBECTL="${KUBECTL:-kubectl}"

for tool in "$KUBECTL" python3 openssl; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "SKIP: $tool not found in PATH; the kubectl fidelity test needs it"
    exit 77
  fi
done

WORK=$(mktemp -d)
SERVER_PID=
WATCH_PID=
cleanup() {
  [ -n "$WATCH_PID" ] && kill "$WATCH_PID" 2>/dev/null
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

fail() {
  echo "FAIL: $*"
  for f in "$WORK"/*.out "$WORK"/*.err; do
    [ -f "$f" ] && { echo "--- $f"; cat "$f"; }
  done
  exit 1
}

python3 "$SERVER" --dir "$WORK/server" --ready-file "$WORK/ready.json" >"$WORK/server.out" 2>"$WORK/server.err" &
SERVER_PID=$!
i=0
while [ ! -s "$WORK/ready.json" ]; do
  i=$((i + 1))
  [ $i -gt 300 ] && fail "server did not start"
  kill -0 "$SERVER_PID" 2>/dev/null || fail "server exited"
  sleep 0.1
done
field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$WORK/ready.json" "$1"; }
URL=$(field url)
CA=$(field ca_file)
TOKEN_FILE=$(field token_file)
CONTROL=$(field control_url)

cat >"$WORK/kubeconfig" <<KC
apiVersion: v1
kind: Config
clusters:
- name: fake
  cluster:
    server: $URL
    certificate-authority: $CA
users:
- name: tester
  user:
    tokenFile: $TOKEN_FILE
contexts:
- name: fake
  context: {cluster: fake, user: tester, namespace: fidelity}
current-context: fake
KC
export KUBECONFIG="$WORK/kubeconfig"
K() { "$KUBECTL" --request-timeout=20s "$@"; }

cat >"$WORK/cm-v1.yaml" <<'Y'
apiVersion: v1
kind: ConfigMap
metadata:
  name: envoy-xds
  labels: {app: envoy}
data:
  rds.yaml: |
    version_info: "1"
Y
sed 's/version_info: "1"/version_info: "2"/' "$WORK/cm-v1.yaml" >"$WORK/cm-v2.yaml"

K version -o json >"$WORK/version.out" 2>"$WORK/version.err" || fail "kubectl version"
grep -q '"gitVersion"' "$WORK/version.out" || fail "no server version"

K create -f "$WORK/cm-v1.yaml" --validate=false >"$WORK/create.out" 2>"$WORK/create.err" || fail "kubectl create"
grep -q 'configmap/envoy-xds created' "$WORK/create.out" || fail "create output"
K create -f "$WORK/cm-v1.yaml" --validate=false >"$WORK/create2.out" 2>"$WORK/create2.err" && fail "second create succeeded"
grep -q 'AlreadyExists\|already exists' "$WORK/create2.err" || fail "second create: no AlreadyExists"

K get configmap envoy-xds -o json >"$WORK/get1.out" 2>"$WORK/get1.err" || fail "kubectl get -o json"
python3 - "$WORK/get1.out" <<'PY' || fail "get -o json content"
import json, sys
o = json.load(open(sys.argv[1]))
assert o["kind"] == "ConfigMap", o
assert o["metadata"]["namespace"] == "fidelity", o
assert o["metadata"]["resourceVersion"] and o["metadata"]["uid"], o
assert o["data"]["rds.yaml"] == 'version_info: "1"\n', o
PY
RV1=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["metadata"]["resourceVersion"])' "$WORK/get1.out")

# Background watch; it must print the update made by replace.
K get configmap envoy-xds -w -o json >"$WORK/watch.out" 2>"$WORK/watch.err" &
WATCH_PID=$!
i=0
until grep -q '"resourceVersion"' "$WORK/watch.out" 2>/dev/null; do
  i=$((i + 1))
  [ $i -gt 200 ] && fail "kubectl get -w printed nothing"
  sleep 0.1
done
# make sure the watch request itself is open before changing the object
i=0
until open_watches=$(python3 -c 'import json,sys,urllib.request; print(json.load(urllib.request.urlopen(sys.argv[1]+"/state"))["openWatches"])' "$CONTROL") && [ "$open_watches" -ge 1 ]; do
  i=$((i + 1))
  [ $i -gt 200 ] && fail "kubectl get -w did not open a watch"
  sleep 0.1
done

K replace -f "$WORK/cm-v2.yaml" --validate=false >"$WORK/replace.out" 2>"$WORK/replace.err" || fail "kubectl replace"
grep -q 'configmap/envoy-xds replaced' "$WORK/replace.out" || fail "replace output"

i=0
until grep -q 'version_info: \\"2\\"' "$WORK/watch.out" 2>/dev/null; do
  i=$((i + 1))
  [ $i -gt 200 ] && fail "kubectl get -w did not print the update"
  sleep 0.1
done

K get configmap envoy-xds -o json >"$WORK/get2.out" 2>"$WORK/get2.err" || fail "kubectl get after replace"
RV2=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["metadata"]["resourceVersion"])' "$WORK/get2.out")
[ "$RV2" -gt "$RV1" ] || fail "resourceVersion did not grow ($RV1 -> $RV2)"

# A replace carrying a stale resourceVersion is refused with a conflict.
python3 - "$WORK/get1.out" "$WORK/stale.json" <<'PY'
import json, sys
o = json.load(open(sys.argv[1]))
o["data"]["rds.yaml"] = "stale\n"
json.dump(o, open(sys.argv[2], "w"))
PY
K replace -f "$WORK/stale.json" --validate=false >"$WORK/stale.out" 2>"$WORK/stale.err" && fail "stale replace succeeded"
grep -qi 'conflict\|has been modified' "$WORK/stale.err" || fail "stale replace: no conflict message"

K patch configmap envoy-xds --type merge -p '{"data":{"extra":"x"}}' >"$WORK/patch.out" 2>"$WORK/patch.err" || fail "kubectl patch"
K apply -f "$WORK/cm-v2.yaml" --validate=false >"$WORK/apply.out" 2>"$WORK/apply.err" || fail "kubectl apply"
K get configmaps -l app=envoy -o name >"$WORK/list.out" 2>"$WORK/list.err" || fail "kubectl get -l"
grep -qx 'configmap/envoy-xds' "$WORK/list.out" || fail "label selector list"

cat >"$WORK/ts.yaml" <<'Y'
apiVersion: split.smi-spec.io/v1alpha2
kind: TrafficSplit
metadata: {name: podinfo}
spec:
  service: podinfo
  backends:
  - {service: podinfo-primary, weight: 90}
  - {service: podinfo-canary, weight: 10}
Y
K create -f "$WORK/ts.yaml" --validate=false >"$WORK/ts.out" 2>"$WORK/ts.err" || fail "kubectl create trafficsplit"
K get trafficsplits.v1alpha4.split.smi-spec.io podinfo -o jsonpath='{.apiVersion} {.spec.backends[1].weight}' \
  >"$WORK/ts-get.out" 2>"$WORK/ts-get.err" || fail "kubectl get trafficsplit via v1alpha4"
grep -qx 'split.smi-spec.io/v1alpha4 10' "$WORK/ts-get.out" || fail "trafficsplit read through another version"

# EndpointSlices and HTTPRoutes, the kinds the kubernetes_endpoints and gateway_httproute sources read.
FIXTURES="$SCRIPT_DIR/../../fixtures"
K create -f "$FIXTURES/endpointslice/podinfo-ipv4.yaml" --validate=false >"$WORK/eps.out" 2>"$WORK/eps.err" \
  || fail "kubectl create endpointslice"
grep -q 'endpointslice.discovery.k8s.io/podinfo-abc12 created' "$WORK/eps.out" || fail "endpointslice create output"
K get endpointslices -n test -l kubernetes.io/service-name=podinfo \
  -o jsonpath='{.items[0].addressType} {.items[0].endpoints[0].addresses[0]} {.items[0].ports[0].name}' \
  >"$WORK/eps-get.out" 2>"$WORK/eps-get.err" || fail "kubectl get endpointslices -l"
grep -qx 'IPv4 10.1.2.3 http' "$WORK/eps-get.out" || fail "endpointslice fields"
sed 's/addressType: IPv4/addressType: IPv5/; s/name: podinfo-abc12/name: podinfo-bad/' \
  "$FIXTURES/endpointslice/podinfo-ipv4.yaml" >"$WORK/eps-bad.yaml"
K create -f "$WORK/eps-bad.yaml" --validate=false >"$WORK/eps-bad.out" 2>"$WORK/eps-bad.err" \
  && fail "an EndpointSlice with addressType IPv5 was accepted"
grep -q 'addressType' "$WORK/eps-bad.err" || fail "bad addressType: no message naming the field"
K create -f "$FIXTURES/httproute/flagger-v1.yaml" --validate=false >"$WORK/hr.out" 2>"$WORK/hr.err" \
  || fail "kubectl create httproute"
K patch httproutes.v1.gateway.networking.k8s.io podinfo -n test --type json \
  -p '[{"op":"replace","path":"/spec/rules/0/backendRefs/1/weight","value":20}]' \
  >"$WORK/hr-patch.out" 2>"$WORK/hr-patch.err" || fail "kubectl patch httproute"
K get httproutes.v1beta1.gateway.networking.k8s.io podinfo -n test \
  -o jsonpath='{.apiVersion} {.spec.rules[0].backendRefs[1].weight}' \
  >"$WORK/hr-get.out" 2>"$WORK/hr-get.err" || fail "kubectl get httproute via v1beta1"
grep -qx 'gateway.networking.k8s.io/v1beta1 20' "$WORK/hr-get.out" || fail "httproute read through v1beta1"

# Routes, the route registry's custom resource (its store: kubernetes).
cat >"$WORK/route.yaml" <<'Y'
apiVersion: crossover.io/v1alpha1
kind: Route
metadata: {name: user-123}
spec:
  domains: [session-123.example.org]
  endpoints: [{address: 10.1.2.3, port: 50051}]
  protocol: grpc
Y
K create -f "$WORK/route.yaml" --validate=false >"$WORK/route.out" 2>"$WORK/route.err" || fail "kubectl create route"
grep -q 'route.crossover.io/user-123 created' "$WORK/route.out" || fail "route create output"
K get routes -o jsonpath='{.items[0].spec.domains[0]} {.items[0].spec.endpoints[0].port}' \
  >"$WORK/route-get.out" 2>"$WORK/route-get.err" || fail "kubectl get routes"
grep -qx 'session-123.example.org 50051' "$WORK/route-get.out" || fail "route fields"
# kubectl replace fills in the resourceVersion it reads (a custom resource is never updated
# without one).
K replace -f "$WORK/route.yaml" --validate=false >"$WORK/route-rep.out" 2>"$WORK/route-rep.err" \
  || fail "kubectl replace route"
K delete route user-123 >"$WORK/route-del.out" 2>"$WORK/route-del.err" || fail "kubectl delete route"

K delete configmap envoy-xds >"$WORK/delete.out" 2>"$WORK/delete.err" || fail "kubectl delete"
grep -q 'deleted' "$WORK/delete.out" || fail "delete output"
K get configmap envoy-xds >"$WORK/get3.out" 2>"$WORK/get3.err" && fail "get after delete succeeded"
grep -q 'NotFound\|not found' "$WORK/get3.err" || fail "get after delete: no NotFound"

i=0
until [ "$(grep -c '"resourceVersion"' "$WORK/watch.out")" -ge 3 ]; do
  i=$((i + 1))
  [ $i -gt 200 ] && fail "kubectl get -w did not print the later updates"
  sleep 0.1
done

# A revoked token is refused.
echo "not-a-valid-token" >"$TOKEN_FILE"
K get configmaps >"$WORK/unauth.out" 2>"$WORK/unauth.err" && fail "request with a revoked token succeeded"
grep -qi 'unauthorized\|must be logged in' "$WORK/unauth.err" || fail "no Unauthorized message"

echo "PASS: kubectl create/replace/get -o json/get -w/patch/apply/delete (ConfigMaps, TrafficSplits, EndpointSlices, HTTPRoutes, Routes) against $URL"
exit 0
