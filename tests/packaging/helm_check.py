#!/usr/bin/env python3
"""Checks the manifests rendered from the crossover chart (by helm or by helm_render.py).

  helm_check.py RENDERED.yaml CHART_DIR NAMESPACE [VALUES.yaml ...]

Expectations are derived from the chart's values.yaml merged with the given values files, the
way helm merges them, so a scenario is described only by its values. When CROSSOVER_BIN names a
built crossover binary, the arguments the chart gives the init container and the sidecar are run
through its flag parser (`--print-pipeline`), and the pipeline it prints is compared with the
chart's ConfigMap name, TrafficSplits and RBAC; in server mode (mode: server) the pipeline the
chart writes into its ConfigMap is checked with `crossover validate` instead.
"""

import os
import subprocess
import sys
import tempfile

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from helm_render import deep_merge  # noqa: E402

FAILURES = []


def check(cond, msg):
    if not cond:
        FAILURES.append(msg)
        print("FAIL: " + msg)
    return cond


def load_values(chart, files):
    with open(os.path.join(chart, "values.yaml"), encoding="utf-8") as f:
        values = yaml.safe_load(f)
    for vf in files:
        with open(vf, encoding="utf-8") as f:
            deep_merge(values, yaml.safe_load(f) or {})
    return values


def by_kind(docs, kind):
    return [d for d in docs if d.get("kind") == kind]


def arg_values(args, flag):
    return [args[i + 1] for i, a in enumerate(args) if a == flag and i + 1 < len(args)]


def check_xds(cm, values, ns, watched):
    data = cm.get("data", {})
    check(set(data) == {"lds.yaml", "rds.yaml", "cds.yaml"},
          f"xDS ConfigMap keys are {sorted(data)}, expected lds.yaml, rds.yaml, cds.yaml")
    try:
        lds = yaml.safe_load(data.get("lds.yaml", ""))
        rds = yaml.safe_load(data.get("rds.yaml", ""))
        cds = yaml.safe_load(data.get("cds.yaml", ""))
    except yaml.YAMLError as e:
        check(False, f"an xDS file in the ConfigMap is not YAML: {e}")
        return
    for name, doc in (("lds.yaml", lds), ("rds.yaml", rds), ("cds.yaml", cds)):
        check(isinstance(doc, dict) and "version_info" in doc and isinstance(doc.get("resources"), list),
              f"{name} is not a DiscoveryResponse (version_info + resources)")
    services = values.get("services") or {}

    # LDS: one listener on envoy.port whose HCM reads RDS from the output directory.
    listeners = lds["resources"]
    check(len(listeners) == 1, f"LDS has {len(listeners)} listeners, expected 1")
    lis = listeners[0]
    check(lis.get("@type") == "type.googleapis.com/envoy.config.listener.v3.Listener",
          f"LDS resource type {lis.get('@type')}")
    check(lis["address"]["socket_address"]["port_value"] == values["envoy"]["port"],
          f"listener port {lis['address']['socket_address']['port_value']} != envoy.port {values['envoy']['port']}")
    hcm = lis["filter_chains"][0]["filters"][0]["typed_config"]
    if values["mode"] == "server":
        # Served over ADS: the listener's routes come on the same stream, never from a file.
        src = hcm["rds"]["config_source"]
        check(src == {"resource_api_version": "V3", "ads": {}}, f"RDS config_source {src}, expected ADS")
    else:
        rds_src = hcm["rds"]["config_source"]["path_config_source"]
        check(rds_src["path"] == "/srv/runtime/current/rds.yaml", f"RDS path {rds_src['path']}")
        check(rds_src.get("watched_directory", {}).get("path") == watched,
              f"RDS watched_directory {rds_src.get('watched_directory')} != {watched}")

    # RDS: one virtual host per service, named after it, weighted_clusters per backend.
    routes = rds["resources"]
    check(len(routes) == 1, f"RDS has {len(routes)} route configurations")
    rc = routes[0]
    check(rc.get("name") == hcm["rds"]["route_config_name"],
          f"RDS name {rc.get('name')} != the listener's route_config_name {hcm['rds']['route_config_name']}")
    vhosts = {vh["name"]: vh for vh in rc.get("virtual_hosts") or []}
    check(set(vhosts) == set(services), f"virtual hosts {sorted(vhosts)} != services {sorted(services)}")
    all_domains = []
    for name, svc in services.items():
        vh = vhosts.get(name)
        if vh is None:
            continue
        expected_domains = svc.get("domains") or [
            name, f"{name}.{ns}", f"{name}.{ns}.svc.{values['clusterDomain']}"]
        check(vh["domains"] == expected_domains, f"virtual host {name} domains {vh['domains']} != {expected_domains}")
        all_domains += vh["domains"]
        route = vh["routes"][0]["route"]
        check(vh["routes"][0]["match"] == {"prefix": svc.get("prefix", "/")},
              f"virtual host {name} match {vh['routes'][0]['match']}")
        clusters = {c["name"]: c["weight"] for c in route["weighted_clusters"]["clusters"]}
        expected = {b: spec["weight"] for b, spec in svc["backends"].items()}
        check(clusters == expected, f"virtual host {name} weighted_clusters {clusters} != backends {expected}")
        if "timeout" in svc:
            check(route.get("timeout") == svc["timeout"], f"virtual host {name} timeout {route.get('timeout')}")
        if svc.get("retries"):
            check(route.get("retry_policy", {}).get("num_retries") == svc["retries"],
                  f"virtual host {name} retry_policy {route.get('retry_policy')}")
    check(len(all_domains) == len(set(all_domains)), f"a domain is served by two virtual hosts: {all_domains}")

    # CDS: one cluster per backend, on the backend's port, resolving the Service in the namespace.
    clusters = {c["name"]: c for c in cds["resources"]}
    backends = {b: spec for svc in services.values() for b, spec in svc["backends"].items()}
    check(set(clusters) == set(backends), f"CDS clusters {sorted(clusters)} != backends {sorted(backends)}")
    check(len(cds["resources"]) == len(clusters), "CDS names a cluster twice")
    for b, spec in backends.items():
        c = clusters.get(b)
        if c is None:
            continue
        sa = c["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]["address"]["socket_address"]
        check(sa["port_value"] == spec["port"], f"cluster {b} port {sa['port_value']} != {spec['port']}")
        check(sa["address"] == f"{b}.{ns}.svc.{values['clusterDomain']}", f"cluster {b} address {sa['address']}")
        check(c["load_assignment"]["cluster_name"] == b, f"cluster {b} load_assignment name")


def check_bootstrap(cm, values, watched):
    boot = yaml.safe_load(cm["data"]["bootstrap.yaml"])
    admin = boot["admin"]["address"]["socket_address"]
    check(admin["port_value"] == values["envoy"]["admin"]["port"], f"admin port {admin['port_value']}")
    check(admin["address"] == values["envoy"]["admin"]["address"], f"admin address {admin['address']}")
    for key, fname in (("lds_config", "lds.yaml"), ("cds_config", "cds.yaml")):
        src = boot["dynamic_resources"][key]
        check(src.get("resource_api_version") == "V3", f"{key} is not V3")
        pcs = src.get("path_config_source", {})
        check(pcs.get("path") == f"/srv/runtime/current/{fname}", f"{key} path {pcs.get('path')}")
        check(pcs.get("watched_directory", {}).get("path") == watched,
              f"{key} watched_directory {pcs.get('watched_directory')} != {watched}")


def check_container_common(c, xds_name, values):
    args = [str(a) for a in c.get("args", [])]
    check(arg_values(args, "--namespace") == ["$(POD_NAMESPACE)"], f"{c['name']}: --namespace {arg_values(args, '--namespace')}")
    env = {e["name"]: e for e in c.get("env", [])}
    check(env.get("POD_NAMESPACE", {}).get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") == "metadata.namespace",
          f"{c['name']}: POD_NAMESPACE does not come from the downward API")
    check(arg_values(args, "--configmap") == [xds_name], f"{c['name']}: --configmap {arg_values(args, '--configmap')}")
    check(arg_values(args, "--output-dir") == ["/srv/runtime"], f"{c['name']}: --output-dir")
    check(arg_values(args, "--swap") == [values["crossover"]["swap"]], f"{c['name']}: --swap")
    services = sorted(values.get("services") or {})
    if values["smi"]["enabled"]:
        check("--smi" in args, f"{c['name']}: smi.enabled but no --smi")
        check(sorted(arg_values(args, "--trafficsplit")) == services,
              f"{c['name']}: --trafficsplit {arg_values(args, '--trafficsplit')} != services {services}")
        check(arg_values(args, "--trafficsplit-api-version") == [values["smi"]["apiVersion"]],
              f"{c['name']}: --trafficsplit-api-version")
    else:
        check("--smi" not in args and "--trafficsplit" not in args, f"{c['name']}: SMI flags without smi.enabled")
    check(values["crossover"]["insecure"] == ("--insecure" in args), f"{c['name']}: --insecure does not follow crossover.insecure")
    mounts = {m["name"]: m["mountPath"] for m in c.get("volumeMounts", [])}
    check(mounts.get("runtime") == "/srv/runtime", f"{c['name']}: runtime volume not at /srv/runtime")
    sc = c.get("securityContext", {})
    check(sc.get("allowPrivilegeEscalation") is False and sc.get("readOnlyRootFilesystem") is True,
          f"{c['name']}: securityContext {sc}")
    return args


def run_binary(args, ns):
    """Parses the chart's arguments with the real binary; returns its pipeline or None."""
    binary = os.environ.get("CROSSOVER_BIN")
    if not binary or not os.access(binary, os.X_OK):
        return None
    argv = [a.replace("$(POD_NAMESPACE)", ns) for a in args]
    r = subprocess.run([binary] + argv + ["--print-pipeline"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=30)
    if not check(r.returncode == 0, f"crossover rejects the chart's arguments {argv}: {r.stderr.strip()}"):
        return None
    try:
        return yaml.safe_load(r.stdout)
    except yaml.YAMLError as e:
        check(False, f"--print-pipeline output is not YAML: {e}")
        return None


def check_pipeline(pipeline, xds_name, values, ns, who):
    sources = pipeline.get("sources", {})
    by_type = {}
    for name, s in sources.items():
        by_type.setdefault(s.get("type"), []).append(s)
    cms = by_type.get("kubernetes_configmap", [])
    check(len(cms) == 1 and cms[0].get("names") == [xds_name] and cms[0].get("namespace") == ns,
          f"{who}: pipeline ConfigMap source {cms}")
    splits = by_type.get("smi_trafficsplit", [])
    if values["smi"]["enabled"]:
        names = sorted(n for s in splits for n in s.get("names", []))
        check(names == sorted(values["services"]), f"{who}: pipeline TrafficSplit names {names}")
    else:
        check(not splits, f"{who}: TrafficSplit source without smi.enabled")
    dirs = [s.get("dir") for s in pipeline.get("sinks", {}).values() if s.get("type") == "symlink"]
    want_dirs = [] if values["mode"] == "server" else ["/srv/runtime"]
    check(dirs == want_dirs, f"{who}: pipeline output dirs {dirs} != {want_dirs}")
    return by_type


def writes_gen_configmap(values):
    """The -gen ConfigMap is a sidecar-mode output; server mode serves instead of writing."""
    return bool(values["crossover"]["writeGenConfigMap"]) and values["mode"] != "server"


def check_rbac(role, values, xds_name, pipeline_sources):
    rules = role.get("rules", [])
    for r in rules:
        check("*" not in r.get("verbs", []) and "*" not in r.get("resources", []), f"wildcard in Role rule {r}")
        # The route registry's Routes are the one thing crossover creates and deletes.
        writes = {"create", "delete"} if r.get("apiGroups") == ["crossover.io"] else set()
        check(not set(r.get("verbs", [])) & ({"create", "delete", "deletecollection", "patch", "escalate",
                                               "bind"} - writes),
              f"Role grants more than read/update: {r}")

    def grants(group, resource, verb, name=None):
        for r in rules:
            if group in r.get("apiGroups", []) and resource in r.get("resources", []) and verb in r.get("verbs", []):
                if "resourceNames" not in r or (name is not None and name in r["resourceNames"]):
                    return True
        return False

    def restricted(group, resource, verb):
        """True when every rule granting verb on resource names the objects."""
        matching = [r for r in rules if group in r.get("apiGroups", []) and resource in r.get("resources", [])
                    and verb in r.get("verbs", [])]
        return bool(matching) and all("resourceNames" in r for r in matching)

    for verb in ("get", "list", "watch"):
        check(grants("", "configmaps", verb, xds_name), f"Role does not allow {verb} on ConfigMap {xds_name}")
    check(restricted("", "configmaps", "get"), "get on ConfigMaps is not restricted by resourceNames")
    # crossover lists and watches a single object with fieldSelector=metadata.name, which is
    # what makes resourceNames effective for list/watch.
    check(restricted("", "configmaps", "list") and restricted("", "configmaps", "watch"),
          "list/watch on ConfigMaps is not restricted to the one ConfigMap")
    gen = f"{xds_name}-gen"
    writes_gen = writes_gen_configmap(values)
    check(grants("", "configmaps", "update", gen) == writes_gen,
          f"update on {gen} granted={grants('', 'configmaps', 'update', gen)} but crossover writes it: {writes_gen}")
    check(not grants("", "configmaps", "update", xds_name), "Role lets crossover update its input ConfigMap")

    services = sorted(values.get("services") or {})
    g = "split.smi-spec.io"
    if values["smi"]["enabled"]:
        for name in services:
            for verb in ("get", "list", "watch"):
                check(grants(g, "trafficsplits", verb, name), f"Role does not allow {verb} on TrafficSplit {name}")
        check(restricted(g, "trafficsplits", "get"), "get on TrafficSplits is not restricted by resourceNames")
        single = len(services) == 1
        if pipeline_sources is not None:
            ts = pipeline_sources.get("smi_trafficsplit", [])
            single = all(len(s.get("names", [])) == 1 for s in ts)
        if single:
            check(restricted(g, "trafficsplits", "list") and restricted(g, "trafficsplits", "watch"),
                  "list/watch on a single TrafficSplit is not restricted by name")
        else:
            # Several names are listed and watched in one namespace-wide request, which a rule
            # with resourceNames would forbid.
            for verb in ("list", "watch"):
                check(grants(g, "trafficsplits", verb), f"{verb} on TrafficSplits is restricted by name, but "
                      "crossover lists several TrafficSplits in one request")
    else:
        check(not any(g in r.get("apiGroups", []) for r in rules), "TrafficSplit rules without smi.enabled")

    rbac = values["rbac"]
    d = "discovery.k8s.io"
    for verb in ("get", "list", "watch"):
        check(grants(d, "endpointslices", verb) == bool(rbac["endpointSlices"]),
              f"{verb} on EndpointSlices granted={grants(d, 'endpointslices', verb)} but "
              f"rbac.endpointSlices={rbac['endpointSlices']}")
    gw = "gateway.networking.k8s.io"
    if rbac["httpRoutes"]:
        for name in services:
            for verb in ("get", "list", "watch"):
                check(grants(gw, "httproutes", verb, name), f"Role does not allow {verb} on HTTPRoute {name}")
        check(restricted(gw, "httproutes", "get"), "get on HTTPRoutes is not restricted by resourceNames")
        if len(services) == 1:
            check(restricted(gw, "httproutes", "list") and restricted(gw, "httproutes", "watch"),
                  "list/watch on a single HTTPRoute is not restricted by name")
    else:
        check(not any(gw in r.get("apiGroups", []) for r in rules), "HTTPRoute rules without rbac.httpRoutes")
    xr = "crossover.io"
    for verb in ("get", "list", "watch", "create", "update", "delete"):
        check(grants(xr, "routes", verb) == bool(values["registry"]["rbac"]),
              f"{verb} on Routes granted={grants(xr, 'routes', verb)} but "
              f"registry.rbac={values['registry']['rbac']}")
    check(not grants(xr, "routes", "deletecollection") and not grants(xr, "routes", "patch"),
          "Routes: more verbs than the registry uses")
    check(all(set(r.get("apiGroups", [])) <= {"", g, d, gw, xr} for r in rules),
          f"Role rules for unexpected API groups: {rules}")


def check_probes(c, values, who):
    ports = {p["name"]: p["containerPort"] for p in c.get("ports", [])}
    for probe, path in (("readinessProbe", "/readyz"), ("livenessProbe", "/healthz")):
        hg = c.get(probe, {}).get("httpGet", {})
        port = ports.get(hg.get("port"), hg.get("port"))
        check(hg.get("path") == path and port == values["crossover"]["port"],
              f"{who} {probe} is {hg}, expected {path} on {values['crossover']['port']}")
        # Explicit, never the kubelet's 1 s default: a loaded node or idle
        # clients holding the endpoint's threads must not fail a probe.
        timeout = c.get(probe, {}).get("timeoutSeconds")
        check(isinstance(timeout, int) and timeout >= 2,
              f"{who} {probe} timeoutSeconds is {timeout}, expected at least 2")


def check_sidecar_pod(docs, spec, values, ns):
    """Sidecar mode: init container, crossover and Envoy sharing the output directory."""
    watched = "/srv/runtime" if values["crossover"]["swap"] == "symlink" else "/srv/runtime/current"
    vols = {v["name"]: v for v in spec["volumes"]}
    check("emptyDir" in vols.get("runtime", {}), "the shared runtime volume is not an emptyDir")

    xds_cms = [d for d in by_kind(docs, "ConfigMap") if "lds.yaml" in d.get("data", {})]
    boot_cms = [d for d in by_kind(docs, "ConfigMap") if "bootstrap.yaml" in d.get("data", {})]
    check(len(xds_cms) == 1 and len(boot_cms) == 1, "expected one xDS ConfigMap and one bootstrap ConfigMap")
    xds_name = xds_cms[0]["metadata"]["name"] if xds_cms else "?"
    if xds_cms:
        check_xds(xds_cms[0], values, ns, watched)
    if boot_cms:
        check_bootstrap(boot_cms[0], values, watched)
        check(vols.get("envoy-bootstrap", {}).get("configMap", {}).get("name") == boot_cms[0]["metadata"]["name"],
              "Envoy's bootstrap volume does not mount the bootstrap ConfigMap")

    inits = spec.get("initContainers", [])
    conts = {c["name"]: c for c in spec["containers"]}
    check(len(inits) == 1, f"{len(inits)} init containers, expected 1 (crossover --onetime)")
    check(set(conts) == {"crossover", "envoy"}, f"containers {sorted(conts)}")
    pipeline_sources = None
    if inits:
        init_args = check_container_common(inits[0], xds_name, values)
        check("--onetime" in init_args and "--watch" not in init_args, f"init container args {init_args}")
        p = run_binary(init_args, ns)
        if p is not None:
            pipeline_sources = check_pipeline(p, xds_name, values, ns, "init container")
    if "crossover" in conts:
        c = conts["crossover"]
        args = check_container_common(c, xds_name, values)
        check("--watch" in args and "--onetime" not in args, f"sidecar args {args}")
        listen = f"0.0.0.0:{values['crossover']['port']}"
        check(arg_values(args, "--listen") == [listen], f"sidecar --listen {arg_values(args, '--listen')} != {listen}")
        check(("--write-gen-configmap" in args) == bool(values["crossover"]["writeGenConfigMap"]),
              "--write-gen-configmap does not follow crossover.writeGenConfigMap")
        check_probes(c, values, "sidecar")
        p = run_binary(args, ns)
        if p is not None:
            check_pipeline(p, xds_name, values, ns, "sidecar")
            print("ok: crossover accepts the init container's and the sidecar's arguments")
    if "envoy" in conts:
        e = conts["envoy"]
        check(e["image"].startswith(values["envoy"]["image"]["repository"] + ":"), f"envoy image {e['image']}")
        check("/etc/envoy/bootstrap.yaml" in [str(a) for a in e.get("args", [])], "envoy does not read the bootstrap")
        mounts = {m["name"]: m for m in e.get("volumeMounts", [])}
        check(mounts.get("runtime", {}).get("mountPath") == "/srv/runtime", "envoy does not mount /srv/runtime")
        ports = {p["name"]: p["containerPort"] for p in e.get("ports", [])}
        check(ports.get("http") == values["envoy"]["port"], f"envoy ports {ports}")
    return xds_name, pipeline_sources



def run_validate(pipeline_text, ns):
    """Runs `crossover validate` on the chart's pipeline; False when it refuses it, None without a binary."""
    binary = os.environ.get("CROSSOVER_BIN")
    if not binary or not os.access(binary, os.X_OK):
        return None
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "pipeline.yaml")
        with open(path, "w", encoding="utf-8") as f:
            f.write(pipeline_text)
        env = dict(os.environ, POD_NAMESPACE=ns)
        r = subprocess.run([binary, "validate", path], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, timeout=60, env=env)
    return check(r.returncode == 0, f"crossover validate refuses the chart's pipeline: {r.stdout.strip()} {r.stderr.strip()}")


SERVED_PIPELINE = """\
sources:
  manifests:
    type: file
    paths: [xds-configmap.yaml]
transforms:
  validate:
    type: envoy_validate
    inputs: [manifests]
sinks:
  xds:
    type: xds_server
    inputs: [validate]
    listen: 127.0.0.1:0
"""


def run_served_documents(xds_cm):
    """Runs the xDS ConfigMap's documents through envoy_validate into an xds_server sink once
    (--dry-run prints what would be served): what server mode serves must be what Envoy accepts.
    False when crossover refuses them, None without a binary."""
    binary = os.environ.get("CROSSOVER_BIN")
    if not binary or not os.access(binary, os.X_OK):
        return None
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "xds-configmap.yaml"), "w", encoding="utf-8") as f:
            yaml.safe_dump(xds_cm, f)
        path = os.path.join(tmp, "pipeline.yaml")
        with open(path, "w", encoding="utf-8") as f:
            f.write(SERVED_PIPELINE)
        r = subprocess.run([binary, "run", path, "--onetime", "--dry-run"], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=60)
    served = [line.split("# ", 1)[1] for line in r.stdout.splitlines() if line.startswith("--- # ")]
    return check(r.returncode == 0 and sorted(served) == ["cds.yaml", "lds.yaml", "rds.yaml"],
                 f"crossover refuses to serve the xDS ConfigMap (exit {r.returncode}, served {served}): "
                 f"{r.stderr.strip()[-2000:]}")


def check_server_pipeline(pipeline, xds_name, values, ns):
    """Server mode's pipeline: the sidecar's sources and checks, one xds_server sink on 0.0.0.0."""
    sources = pipeline.get("sources", {})
    for s in sources.values():
        check(s.get("namespace") == "${POD_NAMESPACE}", f"server pipeline source namespace {s.get('namespace')}")
        s["namespace"] = ns
        check(bool(s.get("insecure")) == bool(values["crossover"]["insecure"]),
              f"server pipeline source insecure={s.get('insecure')} but crossover.insecure={values['crossover']['insecure']}")
    sinks = pipeline.get("sinks", {})
    check(len(sinks) == 1, f"server pipeline sinks {sorted(sinks)}, expected one xds_server")
    sink = next(iter(sinks.values()), {})
    check(sink.get("type") == "xds_server", f"server pipeline sink type {sink.get('type')}")
    port, rest = values["server"]["port"], values["server"]["rest"]
    check(sink.get("listen") == f"0.0.0.0:{port}", f"xds_server listen {sink.get('listen')} != 0.0.0.0:{port}")
    want_rest = f"0.0.0.0:{rest['port']}" if rest["enabled"] else None
    check(sink.get("rest_listen") == want_rest, f"xds_server rest_listen {sink.get('rest_listen')} != {want_rest}")
    check(sink.get("max_streams") == values["server"]["maxStreams"], f"xds_server max_streams {sink.get('max_streams')}")
    # What is served went through envoy_validate, fed by smi_merge when SMI is on.
    transforms = pipeline.get("transforms", {})
    fed = [transforms.get(i, {}) for i in sink.get("inputs", [])]
    check(len(fed) == 1 and fed[0].get("type") == "envoy_validate", f"xds_server inputs {sink.get('inputs')}")
    if fed and values["smi"]["enabled"]:
        merged = [transforms.get(i, {}).get("type") for i in fed[0].get("inputs", [])]
        check(merged == ["smi_merge"], f"envoy_validate inputs {fed[0].get('inputs')} with smi.enabled")
    return check_pipeline(pipeline, xds_name, values, ns, "server pipeline")


def check_client_bootstrap(cm, values, ns, fullname):
    """Server mode's bootstrap for the served Envoys: everything over ADS from the Service."""
    boot = yaml.safe_load(cm["data"]["bootstrap.yaml"])
    dyn = boot["dynamic_resources"]
    for key in ("lds_config", "cds_config"):
        check(dyn.get(key) == {"ads": {}, "resource_api_version": "V3"}, f"client bootstrap {key} {dyn.get(key)}")
    ads = dyn.get("ads_config", {})
    check(ads.get("api_type") == "GRPC" and ads.get("transport_api_version") == "V3", f"ads_config {ads}")
    cluster = ads["grpc_services"][0]["envoy_grpc"]["cluster_name"]
    static = {c["name"]: c for c in boot["static_resources"]["clusters"]}
    c = static.get(cluster, {})
    check("http2_protocol_options" in str(c.get("typed_extension_protocol_options")), f"xDS cluster {cluster} is not HTTP/2")
    sa = c["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]["address"]["socket_address"]
    want = f"{fullname}.{ns}.svc.{values['clusterDomain']}"
    check(sa == {"address": want, "port_value": values["server"]["port"]}, f"xDS cluster address {sa}, expected {want}")


def check_server_pod(docs, dep, values, ns):
    """Server mode: crossover alone, its pipeline from a ConfigMap, xDS ports, no Envoy, no files."""
    spec = dep["spec"]["template"]["spec"]
    check(dep["spec"]["replicas"] == values["server"]["replicas"],
          f"replicas {dep['spec']['replicas']} != server.replicas {values['server']['replicas']}")
    check(not spec.get("initContainers"), "server mode renders init containers")
    conts = {c["name"]: c for c in spec["containers"]}
    check(set(conts) == {"crossover"}, f"server mode containers {sorted(conts)}")
    c = conts.get("crossover", {})
    args = [str(a) for a in c.get("args", [])]
    check(args[:2] == ["run", "/etc/crossover/pipeline.yaml"], f"server args {args}")
    listen = f"0.0.0.0:{values['crossover']['port']}"
    check(arg_values(args, "--listen") == [listen], f"server --listen {arg_values(args, '--listen')} != {listen}")
    check(arg_values(args, "--log-level") == [values["crossover"]["logLevel"]], "server --log-level does not follow crossover.logLevel")
    env = {e["name"]: e for e in c.get("env", [])}
    check(env.get("POD_NAMESPACE", {}).get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") == "metadata.namespace",
          "server: POD_NAMESPACE does not come from the downward API")
    sc = c.get("securityContext", {})
    check(sc.get("allowPrivilegeEscalation") is False and sc.get("readOnlyRootFilesystem") is True,
          f"server securityContext {sc}")
    ports = {p["name"]: p["containerPort"] for p in c.get("ports", [])}
    want = {"xds": values["server"]["port"], "metrics": values["crossover"]["port"]}
    if values["server"]["rest"]["enabled"]:
        want["xds-rest"] = values["server"]["rest"]["port"]
    check(ports == want, f"server container ports {ports} != {want}")
    check_probes(c, values, "server")

    cms = {d["metadata"]["name"]: d for d in by_kind(docs, "ConfigMap")}
    vols = {v["name"]: v for v in spec.get("volumes", [])}
    mounts = {m["name"]: m for m in c.get("volumeMounts", [])}
    check(mounts.get("pipeline", {}).get("mountPath") == "/etc/crossover", f"server mounts {mounts}")
    pipeline_cm = cms.get(vols.get("pipeline", {}).get("configMap", {}).get("name"))
    xds_cms = [d for d in cms.values() if "lds.yaml" in d.get("data", {})]
    check(len(xds_cms) == 1, "expected one xDS ConfigMap")
    xds_name = xds_cms[0]["metadata"]["name"] if xds_cms else "?"
    if xds_cms:
        check_xds(xds_cms[0], values, ns, None)
        if run_served_documents(xds_cms[0]):
            print("ok: envoy_validate and xds_server accept the documents server mode serves")
    boot_cms = [d for d in cms.values() if "bootstrap.yaml" in d.get("data", {})]
    if check(len(boot_cms) == 1, "expected one client bootstrap ConfigMap"):
        check_client_bootstrap(boot_cms[0], values, ns, dep["metadata"]["name"])
    if not check(pipeline_cm is not None and "pipeline.yaml" in pipeline_cm.get("data", {}),
                 "the pipeline volume does not mount a ConfigMap with pipeline.yaml"):
        return xds_name, None
    text = pipeline_cm["data"]["pipeline.yaml"]
    if run_validate(text, ns):
        print("ok: crossover validate accepts the server pipeline")
    return xds_name, check_server_pipeline(yaml.safe_load(text), xds_name, values, ns)


def check_server_service(ports, values, dep):
    check("http" not in ports, "server mode's Service exposes an Envoy port")
    xds = ports.get("xds", {})
    check(xds.get("port") == values["server"]["port"] and xds.get("targetPort") == "xds",
          f"Service xds port {xds}")
    check(xds.get("appProtocol") == "grpc", f"Service xds appProtocol {xds.get('appProtocol')}")
    rest = ports.get("xds-rest")
    if values["server"]["rest"]["enabled"]:
        check(rest is not None and rest.get("port") == values["server"]["rest"]["port"]
              and rest.get("targetPort") == "xds-rest", f"Service xds-rest port {rest}")
    else:
        check(rest is None, "Service exposes REST-JSON though server.rest.enabled is false")


def main():
    rendered, chart, ns = sys.argv[1:4]
    value_files = sys.argv[4:]
    values = load_values(chart, value_files)
    with open(rendered, encoding="utf-8") as f:
        try:
            docs = [d for d in yaml.safe_load_all(f) if d]
        except yaml.YAMLError as e:
            check(False, f"the rendered chart is not YAML: {e}")
            return finish()
    for d in docs:
        check(d.get("apiVersion") and d.get("kind") and d.get("metadata", {}).get("name"),
              f"a rendered document lacks apiVersion/kind/metadata.name: {str(d)[:200]}")
    kinds = sorted(d["kind"] for d in docs)
    print("rendered: " + ", ".join(kinds))

    deps = by_kind(docs, "Deployment")
    if not check(len(deps) == 1, f"{len(deps)} Deployments rendered"):
        return finish()
    spec = deps[0]["spec"]["template"]["spec"]
    check(spec["securityContext"].get("runAsNonRoot") is True and spec["securityContext"].get("runAsUser") == 65532,
          f"pod securityContext {spec['securityContext']}")
    if values["mode"] == "server":
        xds_name, pipeline_sources = check_server_pod(docs, deps[0], values, ns)
    else:
        xds_name, pipeline_sources = check_sidecar_pod(docs, spec, values, ns)

    sas = by_kind(docs, "ServiceAccount")
    roles = by_kind(docs, "Role")
    rbs = by_kind(docs, "RoleBinding")
    check(not by_kind(docs, "ClusterRole") and not by_kind(docs, "ClusterRoleBinding"),
          "the chart asks for cluster-wide RBAC")
    if check(len(sas) == 1 and len(roles) == 1 and len(rbs) == 1, "expected one ServiceAccount, Role and RoleBinding"):
        check(spec["serviceAccountName"] == sas[0]["metadata"]["name"], "the pod does not use the chart's ServiceAccount")
        rb = rbs[0]
        check(rb["roleRef"]["name"] == roles[0]["metadata"]["name"] and rb["roleRef"]["kind"] == "Role",
              f"RoleBinding roleRef {rb['roleRef']}")
        check(rb["subjects"] == [{"kind": "ServiceAccount", "name": sas[0]["metadata"]["name"], "namespace": ns}],
              f"RoleBinding subjects {rb['subjects']}")
        check_rbac(roles[0], values, xds_name, pipeline_sources)

    gens = [d for d in by_kind(docs, "ConfigMap") if d["metadata"]["name"] == f"{xds_name}-gen"]
    check(len(gens) == (1 if writes_gen_configmap(values) else 0), "-gen ConfigMap presence")
    for g in gens:
        check("data" not in g, "the chart sets data on the -gen ConfigMap (helm upgrades would erase crossover's output)")

    crds = by_kind(docs, "CustomResourceDefinition")
    routes = [c for c in crds if c["metadata"]["name"] == "routes.crossover.io"]
    if check(len(routes) == (1 if values["registry"]["installCRD"] else 0),
             f"{len(routes)} Route CRDs with registry.installCRD={values['registry']['installCRD']}"):
        for crd in routes:
            v = crd["spec"]["versions"]
            check(crd["spec"]["group"] == "crossover.io" and [x["name"] for x in v] == ["v1alpha1"]
                  and v[0]["served"] is True and v[0]["storage"] is True, "Route CRD versions")
            check("domains" in v[0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"],
                  "Route CRD schema")
    crds = [c for c in crds if c not in routes]
    if values["smi"]["installCRD"]:
        if check(len(crds) == 1, f"{len(crds)} CRDs with smi.installCRD"):
            crd = crds[0]
            check(crd["metadata"]["name"] == "trafficsplits.split.smi-spec.io", "CRD name")
            vs = crd["spec"]["versions"]
            check([v["name"] for v in vs] == ["v1alpha1", "v1alpha2", "v1alpha3", "v1alpha4"],
                  f"CRD versions {[v['name'] for v in vs]}")
            check([v["name"] for v in vs if v["storage"] is True] == ["v1alpha2"], "CRD storage version is not v1alpha2 alone")
            check(all(v["served"] is True for v in vs), "a CRD version is not served")
            for v in vs:
                props = v["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]
                check(("matches" in props) == (v["name"] in ("v1alpha3", "v1alpha4")), f"CRD {v['name']} matches")
    else:
        check(not crds, "a CRD rendered without smi.installCRD")

    splits = by_kind(docs, "TrafficSplit")
    if values["smi"]["enabled"] and values["smi"]["createTrafficSplits"]:
        got = {s["metadata"]["name"]: {b["service"]: b["weight"] for b in s["spec"]["backends"]} for s in splits}
        want = {n: {b: spec["weight"] for b, spec in svc["backends"].items()} for n, svc in values["services"].items()}
        check(got == want, f"TrafficSplits {got} != {want}")
        for s in splits:
            check(s["spec"]["service"] == s["metadata"]["name"], f"TrafficSplit {s['metadata']['name']} root service")
    else:
        check(not splits, "TrafficSplits rendered without smi.createTrafficSplits")

    svcs = by_kind(docs, "Service")
    if check(len(svcs) == 1, f"{len(svcs)} Services"):
        ports = {p["name"]: p for p in svcs[0]["spec"]["ports"]}
        if values["mode"] == "server":
            check_server_service(ports, values, deps[0])
        else:
            check(ports.get("http", {}).get("targetPort") == "http", "Service does not target Envoy's http port")
        check(("metrics" in ports) == bool(values["service"]["exposeMetrics"]), "Service metrics port")
        check(svcs[0]["spec"]["selector"] == deps[0]["spec"]["selector"]["matchLabels"],
              "Service selector != Deployment selector")
    check(deps[0]["spec"]["selector"]["matchLabels"].items() <= deps[0]["spec"]["template"]["metadata"]["labels"].items(),
          "Deployment selector does not match its pod labels")
    return finish()


def finish():
    if FAILURES:
        print(f"chart check FAILED with {len(FAILURES)} problem(s)")
        return 1
    print("chart check passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
