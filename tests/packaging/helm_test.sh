#!/bin/sh
# Renders the Helm chart under packaging/helm/crossover for each values file in helm/ (plus the
# chart's defaults) and checks the manifests (helm_check.py): Deployment, init container and
# sidecar flags, probes, shared volume, Envoy bootstrap, generated xDS files, RBAC, CRD; for
# server mode (helm/server*.yaml) the xds_server pipeline, its ports, Service and client bootstrap.
#   - with `helm` on PATH: `helm lint` and `helm template` render the chart;
#   - without it: helm_render.py, a renderer for the template subset the chart uses, renders it
#     (an unsupported construct is an error, not a gap), and the script says so.
# Both paths also check that Chart.yaml and values.yaml parse and that every .Values reference in
# the templates exists in values.yaml. With CROSSOVER_BIN set, the chart's container arguments
# are run through the binary's flag parser, server mode's pipeline through `crossover validate`
# (which loads the plugins it names), and the xDS documents server mode serves through
# envoy_validate into an xds_server sink (`crossover run --onetime --dry-run`; needs the source_file
# and sink_stdout plugins too). Exit status 77: no Python with PyYAML (python3-yaml).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
: "${CROSSOVER_SOURCE_DIR:=$(cd "$here/../.." && pwd)}"
chart="$CROSSOVER_SOURCE_DIR/packaging/helm/crossover"
ns=crossover-test
release=canary

py=""
for cand in python3 /usr/bin/python3; do
    if command -v "$cand" >/dev/null 2>&1 && "$cand" -c 'import yaml' 2>/dev/null; then
        py=$cand
        break
    fi
done
[ -n "$py" ] || { echo "SKIP: no python3 with the yaml module (Debian package python3-yaml)"; exit 77; }

"$py" - "$chart" <<'PY'
import os, re, sys, yaml
chart = sys.argv[1]
meta = yaml.safe_load(open(os.path.join(chart, "Chart.yaml")))
for key in ("apiVersion", "name", "version", "appVersion"):
    assert meta.get(key), f"Chart.yaml lacks {key}"
assert meta["apiVersion"] == "v2", "Chart.yaml apiVersion must be v2"
values = yaml.safe_load(open(os.path.join(chart, "values.yaml")))
missing = []
count = 0
tdir = os.path.join(chart, "templates")
for fn in sorted(os.listdir(tdir)):
    text = open(os.path.join(tdir, fn)).read()
    for m in re.finditer(r"\.Values((?:\.[A-Za-z0-9_]+)+)", text):
        count += 1
        node = values
        for part in m.group(1).strip(".").split("."):
            if not isinstance(node, dict) or part not in node:
                missing.append(f"{fn}: .Values{m.group(1)}")
                break
            node = node[part]
if missing:
    sys.exit("references to values that values.yaml does not define:\n  " + "\n  ".join(sorted(set(missing))))
print(f"ok: Chart.yaml and values.yaml parse; {count} .Values references all defined")
PY

tmp=$(mktemp -d "${TMPDIR:-/tmp}/crossover-helm.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

if command -v helm >/dev/null 2>&1; then
    echo "rendering with $(helm version --short 2>/dev/null || echo helm)"
    renderer=helm
else
    echo "helm is not on PATH: rendering with tests/packaging/helm_render.py (template subset)"
    renderer=python
    "$py" "$here/helm_render_selftest.py" || { echo "chart test FAILED: the renderer disagrees with Go templates"; exit 1; }
fi

failed=0
for scenario in default "$here"/helm/*.yaml; do
    if [ "$scenario" = default ]; then
        set --
        label=default
    else
        set -- -f "$scenario"
        label=$(basename "$scenario" .yaml)
    fi
    out="$tmp/$label.yaml"
    echo "== scenario $label"
    if [ "$renderer" = helm ]; then
        helm lint --strict "$chart" "$@" || { echo "FAIL: helm lint ($label)"; failed=1; continue; }
        helm template "$release" "$chart" --namespace "$ns" "$@" >"$out" \
            || { echo "FAIL: helm template ($label)"; failed=1; continue; }
    else
        "$py" "$here/helm_render.py" "$chart" --namespace "$ns" --release "$release" "$@" >"$out" \
            || { echo "FAIL: rendering ($label)"; failed=1; continue; }
    fi
    if [ "$#" -gt 0 ]; then
        "$py" "$here/helm_check.py" "$out" "$chart" "$ns" "$2" || failed=1
    else
        "$py" "$here/helm_check.py" "$out" "$chart" "$ns" || failed=1
    fi
done
# A misspelt mode is refused with a message, never rendered as the other mode.
printf 'mode: sever\n' >"$tmp/bad-mode.yaml"
if [ "$renderer" = helm ]; then
    bad_cmd="helm template $release $chart --namespace $ns -f $tmp/bad-mode.yaml"
else
    bad_cmd="$py $here/helm_render.py $chart --namespace $ns --release $release -f $tmp/bad-mode.yaml"
fi
echo "== scenario bad-mode"
if $bad_cmd >"$tmp/bad-mode.out" 2>&1; then
    echo "FAIL: mode: sever rendered without an error"; failed=1
elif ! grep -q "mode must be sidecar or server" "$tmp/bad-mode.out"; then
    echo "FAIL: mode: sever refused without the message:"; cat "$tmp/bad-mode.out"; failed=1
else
    echo "ok: mode: sever is refused ($(grep -o 'mode must be sidecar or server' "$tmp/bad-mode.out" | head -1))"
fi
[ "$failed" -eq 0 ] || { echo "chart test FAILED"; exit 1; }
echo "chart test passed (renderer: $renderer)"
