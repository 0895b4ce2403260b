#!/usr/bin/env python3
"""Writes the seed corpora fuzz/seeds/<target>/ from the repository's fixtures.

Run from anywhere: python3 fuzz/make_seeds.py. The seeds are checked in (the
regression tests replay them); rerun this after changing the fixtures.
"""
import hashlib
import json
import pathlib
import re
import shutil

import yaml

ROOT = pathlib.Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
SEEDS = ROOT / "fuzz" / "seeds"


def text(path):
    return path.read_text(encoding="utf-8")


def c_strings(path, call):
    """The first string literal argument of every `call("...")` in a C++ file."""
    out = []
    for m in re.finditer(re.escape(call) + r'\("((?:[^"\\]|\\.)*)"', text(path)):
        out.append(bytes(m.group(1), "utf-8").decode("unicode_escape"))
    return out


class Corpus:
    def __init__(self, target):
        self.dir = SEEDS / target
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir.mkdir(parents=True)
        self.names = set()

    def add(self, name, content):
        data = content.encode("utf-8") if isinstance(content, str) else content
        name = re.sub(r"[^A-Za-z0-9_.-]", "_", name)
        if name in self.names:
            name += "-" + hashlib.sha1(data).hexdigest()[:8]
        self.names.add(name)
        (self.dir / name).write_bytes(data)


def pipelines():
    c = Corpus("pipeline_config")
    c.add("quickstart.yaml", text(ROOT / "examples" / "quickstart" / "pipeline.yaml"))
    c.add("full.yaml", """plugin_dirs: [/opt/plugins, ${PLUGINS:-/usr/lib}]
plugins: [${HOME}/x.so]
engine: {debounce: 5ms, max_delay: 100ms, retry_initial: 200ms, retry_max: 30s}
server: {listen: "127.0.0.1:9901", metrics: true}
sources:
  xds: {type: kubernetes_configmap, names: [envoy-xds], namespace: "${NS:-default}"}
  splits: {type: smi_trafficsplit, api_version: auto}
transforms:
  canary: {type: smi_merge, inputs: [xds, splits], match: domain}
  render: {type: template, inputs: [canary], values: {a: 1, b: [x, y]}}
sinks:
  envoy: {type: symlink, inputs: [render], dir: "$${literal}/out", keep: 3}
  print: {type: stdout, inputs: [render, canary]}
""")
    c.add("errors.yaml", """sorces: {}
engine: {debounce: -1, max_delay: 1ms, retry_initial: 0s, bogus: 1}
sources:
  a: {type: file, inputs: [b]}
  "bad name": {type: file}
transforms:
  t1: {type: x, inputs: [t2]}
  t2: {type: x, inputs: [t1, t1, missing, s]}
  t3: {inputs: []}
sinks:
  s: {type: symlink, inputs: [s], dir: ${UNSET}}
  s2: [not, a, map]
""")
    c.add("anchors.yaml", """common: &c {type: file, paths: [a.yaml]}
sources: {a: *c, b: {<<: *c, watch: true}}
sinks: {out: {type: stdout, inputs: [a, b]}}
""")
    c.add("empty.yaml", "")
    c.add("scalar.yaml", "just text\n")


def watch_events():
    c = Corpus("watch_event")
    files = sorted((FIXTURES / "manifests").glob("*.yaml")) + sorted(
        (FIXTURES / "trafficsplit").glob("*.yaml")) + sorted((FIXTURES / "invalid").glob("*.yaml"))
    for f in files:
        try:
            docs = [d for d in yaml.safe_load_all(text(f)) if isinstance(d, dict)]
        except yaml.YAMLError:
            continue
        lines = []
        for i, d in enumerate(docs):
            d.setdefault("metadata", {})["resourceVersion"] = str(100 + i)
            lines.append(json.dumps({"type": "ADDED", "object": d}, default=str))
            lines.append(json.dumps({"type": "MODIFIED", "object": d}, default=str))
            lines.append(json.dumps({"type": "DELETED", "object": d}, default=str))
        if lines:
            c.add(f.parent.name + "-" + f.stem + ".jsonl", "\n".join(lines) + "\n")
    c.add("bookmark-error.jsonl", "\r\n".join([
        json.dumps({"type": "BOOKMARK", "object": {"kind": "ConfigMap", "apiVersion": "v1",
                                                   "metadata": {"resourceVersion": "12345"}}}),
        json.dumps({"type": "ERROR", "object": {"kind": "Status", "apiVersion": "v1",
                                                "status": "Failure", "reason": "Expired",
                                                "message": "too old resource version: 1 (2)",
                                                "code": 410}}),
        json.dumps({"type": "ERROR", "object": {"code": 500, "message": "\u00e9\\\"x"}}),
        '{"type": "ADDED", "object": [1, 2.5e10, true, null, -0]}',
        '{"type": "ADDED"}',
        '[]',
    ]) + "\n")


def quantities():
    c = Corpus("quantity")
    for f in sorted((FIXTURES / "trafficsplit").glob("*.yaml")) + sorted(
            (FIXTURES / "invalid").glob("trafficsplit*.yaml")):
        words = []
        for d in yaml.safe_load_all(text(f)):
            if isinstance(d, dict) and isinstance(d.get("spec"), dict):
                for b in d["spec"].get("backends") or []:
                    if isinstance(b, dict) and "weight" in b:
                        words.append(str(b["weight"]))
        if words:
            c.add(f.stem + ".txt", " ".join(words) + "\n")
    for i, line in enumerate([
            "100 500m 1500m", "1Ki 1Mi 1Gi 1Ti 1Pi 1Ei", "1.5 0.25 .5 5.", "1e3 1E-3 +2e+2 3e-9",
            "1n 1u 1m 1k 1M 1G 1T 1P 1E", "-5 0 +0 -0.0", "99999999999999999999999999999999999999",
            "4294967295 1", "1e100000 1e-100000", "0.000000000000000000000000000000000000001 1"
    ]):
        c.add("words-%02d.txt" % i, line + "\n")


def templates():
    c = Corpus("template")
    golden = ROOT / "plugins" / "transform_template" / "tests" / "golden"
    for f in sorted(golden.glob("*.tmpl")):
        c.add(f.name, text(f))
    tests = ROOT / "plugins" / "transform_template" / "tests"
    n = 0
    for f in [tests / "engine_test.cpp", tests / "functions_test.cpp"]:
        for call in ["render", "error_of"]:
            for s in c_strings(f, call):
                if "{{" in s:
                    c.add("%s-%03d.tmpl" % (f.stem, n), s)
                    n += 1


def smi_merges():
    c = Corpus("smi_merge")
    routes = sorted((FIXTURES / "xds").glob("rds*.yaml")) + [FIXTURES / "invalid" / "rds-typo.yaml"]
    splits = sorted((FIXTURES / "trafficsplit").glob("*.yaml")) + [
        FIXTURES / "invalid" / "trafficsplit-negative.yaml"]
    for r in routes:
        c.add(r.stem + ".yaml", text(r))
        for s in splits:
            if s.stem.startswith("crd-"):
                continue
            c.add("%s+%s.yaml" % (r.stem, s.stem), text(r) + "\n%%\n" + text(s))


def doc_trees():
    c = Corpus("doc_tree")
    for d in ["xds", "invalid", "trafficsplit"]:
        for f in sorted((FIXTURES / d).glob("*.yaml")):
            c.add(d + "-" + f.name, text(f))
    for f in sorted((FIXTURES / "xds").glob("*.yaml")):
        doc = yaml.safe_load(text(f))
        c.add(f.stem + ".json", json.dumps(doc, indent=2))
        c.add(f.stem + "-compact.json", json.dumps(doc, separators=(",", ":")))
    c.add("scalars.yaml", """---
# every kind of scalar the scanner reads
plain: a b:c d#e
single: 'it''s # not a comment'
double: "tab\\t quote\\" slash\\/ \\u00e9 \\x41 \\U0001F600"
empty: ""
nothing:
tilde: ~
number: -12.5e3
url: http://example.com:8080/a?b=c
list:
- a
-   b: 1
    c: [x, "y", 'z', {k: v}]
- - nested
  - seq
indentless:
- 1
- 2
flow: {"a":1, "b": [true, null], c: {}}
""")
    c.add("refused.yaml", """anchor: &a {x: 1}
alias: *a
tag: !!str 5
block: |
  text
folded: >
  text
multi: first
  second
""")


def endpointslices():
    c = Corpus("endpointslice")
    slices = sorted((FIXTURES / "endpointslice").glob("*.yaml")) + [
        FIXTURES / "invalid" / "endpointslice-bad-address.yaml"]
    objects = [yaml.safe_load(text(f)) for f in slices]
    for f, o in zip(slices, objects):
        c.add(f.stem + ".json", json.dumps(o, sort_keys=True))
    c.add("list.json", json.dumps({"kind": "EndpointSliceList", "items": objects}, sort_keys=True))


def httproutes():
    c = Corpus("httproute")
    routes = sorted((FIXTURES / "httproute").glob("*.yaml")) + [
        FIXTURES / "invalid" / "httproute-negative-weight.yaml"]
    for f in routes:
        c.add(f.stem + ".json", json.dumps(yaml.safe_load(text(f)), sort_keys=True))
    c.add("paths.json", json.dumps({
        "apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
        "metadata": {"name": "podinfo", "namespace": "test"},
        "spec": {"rules": [
            {"matches": [{"path": {"type": "PathPrefix", "value": "/api"}}],
             "backendRefs": [{"name": "podinfo-canary", "port": 9898}]},
            {"matches": [{"path": {"type": "Exact", "value": "/"}}, {"headers": []}],
             "backendRefs": [{"name": "podinfo-primary", "weight": 0}]}]}}, sort_keys=True))


def manifests():
    c = Corpus("manifest")
    for d in ["manifests", "trafficsplit", "invalid", "xds"]:
        for f in sorted((FIXTURES / d).glob("*.yaml")):
            c.add(d + "-" + f.name, text(f))
    for f in sorted((ROOT / "examples" / "quickstart").glob("*.yaml")):
        c.add("quickstart-" + f.name, text(f))
    c.add("list.yaml", """apiVersion: v1
kind: ConfigMapList
items:
- {apiVersion: v1, kind: ConfigMap, metadata: {name: a}, data: {x.yaml: "1"}}
- {apiVersion: v1, kind: ConfigMap, metadata: {name: b}, binaryData: {y.bin: aGVsbG8=}}
""")


def json_objects():
    """Whole JSON texts: each watch event of the watch_event corpus, a list, and the edges
    where the reader leaves the text to Poco's parser."""
    c = Corpus("json_reader")
    for f in sorted((SEEDS / "watch_event").iterdir()):
        for i, line in enumerate(f.read_bytes().splitlines()):
            if line.strip():
                c.add("%s-%d.json" % (f.stem, i), line.rstrip(b"\r"))
    c.add("list.json", json.dumps({"kind": "ConfigMapList", "metadata": {"resourceVersion": "7"},
                                   "items": [{"metadata": {"name": "a"},
                                              "data": {"rds.yaml": "x: 1\n" * 2000}}]}))
    c.add("numbers.json", '{"a": [0, -0, 1, -1, 2147483648, -9223372036854775808, '
          '9223372036854775807, 9223372036854775808, 1.5, -0.0, 1e3, 1E+3, 2.5e-3, 1e400]}')
    c.add("escapes.json", '{"s": "\\"\\\\\\/\\b\\f\\n\\r\\t\\u0000\\u00e9\\u20ac'
          '\\ud83d\\ude00", "k\\u00e9y": 1, "k\\u00e9y": 2}')
    c.add("utf8.json", '{"s": "\u00e9\u20ac\U0001f600\x7f"}')
    c.add("invalid.json", b'{"a": "\xed\xa0\x80", "b": "\\ud800", "c": "\x01"}')
    c.add("nested.json", '{"a": ' * 250 + '1' + '}' * 250)
    c.add("literals.json", ' {"t": true, "f": false, "n": null, "o": {}, "e": []}\r\n')
    c.add("trailing.json", '{"a": 1} {"b": 2}')


def kubeconfigs():
    """Kubeconfigs shaped as kind, minikube, EKS, GKE and in-cluster tooling write
    them. Relative paths name the files fuzz_kubeconfig.cpp puts beside the input
    (ca.crt, client.crt, client.key, token, empty-token, certs/)."""
    import base64

    def b64(s):
        return base64.b64encode(s.encode()).decode()

    ca_pem = "-----BEGIN CERTIFICATE-----\nY2E=\n-----END CERTIFICATE-----\n"
    cert_pem = "-----BEGIN CERTIFICATE-----\nY2VydA==\n-----END CERTIFICATE-----\n"
    key_pem = "-----BEGIN PRIVATE KEY-----\na2V5\n-----END PRIVATE KEY-----\n"
    c = Corpus("kubeconfig")
    c.add("kind.yaml", """apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: %s
    server: https://127.0.0.1:41234
  name: kind-kind
contexts:
- context:
    cluster: kind-kind
    user: kind-kind
  name: kind-kind
current-context: kind-kind
kind: Config
preferences: {}
users:
- name: kind-kind
  user:
    client-certificate-data: %s
    client-key-data: %s
""" % (b64(ca_pem), b64(cert_pem), b64(key_pem)))
    c.add("minikube.yaml", """apiVersion: v1
clusters:
- cluster:
    certificate-authority: ca.crt
    extensions:
    - extension:
        last-update: Sun, 06 Dec 2026 10:00:00 UTC
        provider: minikube.sigs.k8s.io
        version: v1.32.0
      name: cluster_info
    server: https://192.168.49.2:8443
  name: minikube
contexts:
- context:
    cluster: minikube
    extensions:
    - extension:
        provider: minikube.sigs.k8s.io
      name: context_info
    namespace: default
    user: minikube
  name: minikube
current-context: minikube
kind: Config
preferences: {}
users:
- name: minikube
  user:
    client-certificate: client.crt
    client-key: client.key
""")
    c.add("minikube-home.yaml", """apiVersion: v1
clusters:
- cluster: {certificate-authority: /home/user/.minikube/ca.crt, server: "https://192.168.49.2:8443"}
  name: minikube
contexts:
- context: {cluster: minikube, user: minikube}
  name: minikube
current-context: minikube
kind: Config
users:
- name: minikube
  user: {client-certificate: /home/user/.minikube/profiles/minikube/client.crt, client-key: /home/user/.minikube/profiles/minikube/client.key}
""")
    c.add("eks-exec.yaml", """apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: %s
    server: https://0123456789ABCDEF0123456789ABCDEF.gr7.eu-west-1.eks.amazonaws.com
  name: arn:aws:eks:eu-west-1:123456789012:cluster/demo
contexts:
- context:
    cluster: arn:aws:eks:eu-west-1:123456789012:cluster/demo
    user: arn:aws:eks:eu-west-1:123456789012:cluster/demo
  name: arn:aws:eks:eu-west-1:123456789012:cluster/demo
current-context: arn:aws:eks:eu-west-1:123456789012:cluster/demo
kind: Config
preferences: {}
users:
- name: arn:aws:eks:eu-west-1:123456789012:cluster/demo
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      args:
      - --region
      - eu-west-1
      - eks
      - get-token
      - --cluster-name
      - demo
      command: aws
      env:
      - name: AWS_PROFILE
        value: prod
      interactiveMode: IfAvailable
      provideClusterInfo: false
""" % b64(ca_pem))
    c.add("gke.yaml", """apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: %s
    server: https://34.77.1.2
  name: gke_proj_europe-west1_demo
contexts:
- context:
    cluster: gke_proj_europe-west1_demo
    user: gke_proj_europe-west1_demo
  name: gke_proj_europe-west1_demo
- context:
    cluster: gke_proj_europe-west1_demo
    user: legacy
  name: legacy
current-context: gke_proj_europe-west1_demo
kind: Config
preferences: {}
users:
- name: gke_proj_europe-west1_demo
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: gke-gcloud-auth-plugin
      installHint: Install gke-gcloud-auth-plugin for use with kubectl
      provideClusterInfo: true
- name: legacy
  user:
    auth-provider:
      config:
        cmd-args: config config-helper --format=json
        cmd-path: /usr/lib/google-cloud-sdk/bin/gcloud
        expiry-key: '{.credential.token_expiry}'
        token-key: '{.credential.access_token}'
      name: gcp
""" % b64(ca_pem))
    c.add("gke-legacy-context.yaml", "#context=legacy\n" + text(c.dir / "gke.yaml"))
    c.add("in-cluster-style.yaml", """apiVersion: v1
kind: Config
clusters:
- name: default
  cluster:
    certificate-authority: ca.crt
    server: https://kubernetes.default.svc:443
contexts:
- name: default
  context:
    cluster: default
    namespace: crossover
    user: default
current-context: default
users:
- name: default
  user:
    tokenFile: token
""")
    c.add("token-inline-several-contexts.yaml", """#context=staging
apiVersion: v1
kind: Config
current-context: dev
contexts:
- name: dev
  context: {cluster: dev, user: dev, namespace: team-a}
- name: staging
  context: {cluster: staging, user: ci}
- name: prod
  context: {cluster: prod, user: admin}
clusters:
- name: dev
  cluster: {server: "http://127.0.0.1:8080/", insecure-skip-tls-verify: true}
- name: staging
  cluster: {server: "https://[fd00::10]:6443", certificate-authority: certs/../ca.crt}
- name: prod
  cluster: {server: "https://prod.example:6443", certificate-authority-data: "%s"}
users:
- name: dev
  user: {}
- name: ci
  user: {token: eyJhbGciOiJSUzI1NiJ9.e30.c2ln}
- name: admin
  user: {client-certificate: client.crt, client-key-data: %s}
""" % (b64(ca_pem), b64(key_pem)))
    c.add("insecure-option.yaml", """#insecure
current-context: x
contexts: [{name: x, context: {cluster: x, user: x}}]
clusters: [{name: x, cluster: {server: "https://10.0.0.1:6443", certificate-authority: missing-ca.crt}}]
users: [{name: x, user: {tokenFile: empty-token}}]
""")
    c.add("anchors.yaml", """current-context: a
clusters:
- {name: a, cluster: &c {server: "https://a:1", certificate-authority: ca.crt}}
- {name: b, cluster: *c}
contexts:
- {name: a, context: &x {cluster: b, user: u}}
users:
- {name: u, user: {client-certificate-data: "%s", client-key: client.key}}
""" % b64(cert_pem))
    c.add("mistakes.yaml", """apiVersion: v1
kind: Config
current-context: broken
contexts:
- broken
- name: broken
  context: {cluster: nowhere, user: nobody}
clusters:
- name: nowhere
  cluster: {server: "10.0.0.1:6443", certificate-authority-data: "not*base64"}
users:
- name: nobody
  user: {tokenFile: certs}
""")
    c.add("empty", "")
    c.add("list.yaml", "- name: a\n  cluster: {server: https://a}\n")


def main():
    pipelines()
    watch_events()
    json_objects()
    quantities()
    templates()
    smi_merges()
    doc_trees()
    endpointslices()
    httproutes()
    manifests()
    kubeconfigs()
    for d in sorted(SEEDS.iterdir()):
        print("%s: %d seeds" % (d.relative_to(ROOT), len(list(d.iterdir()))))


if __name__ == "__main__":
    main()
