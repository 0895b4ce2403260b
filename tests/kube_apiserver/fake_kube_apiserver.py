#!/usr/bin/env python3
"""A small Kubernetes API server for tests.

Speaks the real wire format for core/v1 ConfigMaps, split.smi-spec.io
TrafficSplits (v1alpha1..v1alpha4, shared storage), discovery.k8s.io/v1
EndpointSlices, gateway.networking.k8s.io HTTPRoutes (v1, v1beta1) and the route
registry's crossover.io/v1alpha1 Routes: HTTPS with a generated
test CA, bearer tokens re-read from a file on every request, list/get/create/
update/patch/delete with resourceVersion semantics, chunked watch streams with
bookmarks, timeoutSeconds and 410 Gone, discovery endpoints, and a plain-HTTP
control port on 127.0.0.1 for fault injection.

Standard library only. Started by tests on loopback; prints one JSON line on
stdout once ready (see --help and README.md next to this file).
"""

import argparse
import base64
import copy
import datetime
import json
import os
import re
import select
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SMI_GROUP = "split.smi-spec.io"
SMI_VERSIONS = ["v1alpha1", "v1alpha2", "v1alpha3", "v1alpha4"]

# resource name -> static description
RESOURCES = {
    "configmaps": {
        "kind": "ConfigMap",
        "singular": "configmap",
        "short": ["cm"],
        "group": "",
        "generation": False,
    },
    "trafficsplits": {
        "kind": "TrafficSplit",
        "singular": "trafficsplit",
        "short": ["ts"],
        "group": SMI_GROUP,
        "generation": True,
    },
    # Groups other than SMI serve fixed versions, the first one preferred.
    "endpointslices": {
        "kind": "EndpointSlice",
        "singular": "endpointslice",
        "short": [],
        "group": "discovery.k8s.io",
        "versions": ["v1"],
        "generation": True,
        "spec": ("addressType", "endpoints", "ports"),  # what bumps metadata.generation
    },
    "httproutes": {
        "kind": "HTTPRoute",
        "singular": "httproute",
        "short": [],
        "group": "gateway.networking.k8s.io",
        "versions": ["v1", "v1beta1"],
        "generation": True,
    },
    # The route registry's custom resource (packaging/helm/crossover/files/crd-route.yaml).
    # A custom resource is never updated without metadata.resourceVersion.
    "routes": {
        "kind": "Route",
        "singular": "route",
        "short": [],
        "group": "crossover.io",
        "versions": ["v1alpha1"],
        "generation": True,
        "custom": True,
    },
}
KIND_TO_RESOURCE = {v["kind"]: k for k, v in RESOURCES.items()}

REASONS = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    406: "NotAcceptable",
    409: "Conflict",
    410: "Expired",
    415: "UnsupportedMediaType",
    422: "Invalid",
    429: "TooManyRequests",
    500: "InternalError",
    503: "ServiceUnavailable",
    504: "Timeout",
}

LOG_LOCK = threading.Lock()
VERBOSE = False


def log(msg):
    if VERBOSE:
        with LOG_LOCK:
            sys.stderr.write("fake-apiserver: %s\n" % msg)
            sys.stderr.flush()


def now_rfc3339():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def status_object(code, message, reason=None, details=None):
    obj = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success" if code < 400 else "Failure",
        "message": message,
        "reason": reason if reason is not None else REASONS.get(code, "Unknown"),
        "code": code,
    }
    if details is not None:
        obj["details"] = details
    if code < 400:
        del obj["message"]
        del obj["reason"]
    return obj


class ApiError(Exception):
    def __init__(self, code, message, reason=None, details=None, headers=None):
        super().__init__(message)
        self.code = code
        self.status = status_object(code, message, reason, details)
        self.headers = headers or {}


# --------------------------------------------------------------------------
# Selectors


def split_top_level(text):
    """Splits on commas that are not inside parentheses."""
    parts, depth, cur = [], 0, []
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return [p.strip() for p in parts if p.strip()]


LABEL_SET_RE = re.compile(r"^([^\s!=()]+)\s+(in|notin)\s+\((.*)\)$")


def parse_label_selector(text):
    """Returns a predicate over a labels dict. Raises ApiError on bad syntax."""
    reqs = []
    for part in split_top_level(text or ""):
        m = LABEL_SET_RE.match(part)
        if m:
            key, op, values = m.group(1), m.group(2), m.group(3)
            vals = {v.strip() for v in values.split(",") if v.strip()}
            reqs.append((op, key, vals))
            continue
        if "!=" in part:
            key, val = part.split("!=", 1)
            reqs.append(("!=", key.strip(), val.strip()))
        elif "==" in part:
            key, val = part.split("==", 1)
            reqs.append(("=", key.strip(), val.strip()))
        elif "=" in part:
            key, val = part.split("=", 1)
            reqs.append(("=", key.strip(), val.strip()))
        elif part.startswith("!"):
            reqs.append(("!exists", part[1:].strip(), None))
        elif re.match(r"^[A-Za-z0-9_./-]+$", part):
            reqs.append(("exists", part, None))
        else:
            raise ApiError(400, "unable to parse requirement: %r" % part)
        if not reqs[-1][1]:
            raise ApiError(400, "unable to parse requirement: %r" % part)

    def pred(labels):
        labels = labels or {}
        for op, key, val in reqs:
            present = key in labels
            if op == "=" and (not present or labels[key] != val):
                return False
            if op == "!=" and present and labels[key] == val:
                return False
            if op == "in" and (not present or labels[key] not in val):
                return False
            if op == "notin" and present and labels[key] in val:
                return False
            if op == "exists" and not present:
                return False
            if op == "!exists" and present:
                return False
        return True

    return pred


def parse_field_selector(text):
    reqs = []
    for part in split_top_level(text or ""):
        if "!=" in part:
            key, val, neg = *part.split("!=", 1), True
        elif "==" in part:
            key, val, neg = *part.split("==", 1), False
        elif "=" in part:
            key, val, neg = *part.split("=", 1), False
        else:
            raise ApiError(400, "invalid selector: %r; can't understand %r" % (text, part))
        key = key.strip()
        if key not in ("metadata.name", "metadata.namespace"):
            raise ApiError(400, 'field label not supported: %s' % key)
        reqs.append((key.split(".", 1)[1], val.strip(), neg))

    def pred(obj):
        meta = obj.get("metadata", {})
        for field, val, neg in reqs:
            if (meta.get(field, "") == val) == neg:
                return False
        return True

    return pred


# --------------------------------------------------------------------------
# Merge patch (RFC 7386)


def merge_patch(target, patch):
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if not isinstance(target, dict):
        target = {}
    result = dict(target)
    for k, v in patch.items():
        if v is None:
            result.pop(k, None)
        else:
            result[k] = merge_patch(result.get(k), v)
    return result


def json_patch(doc, ops):
    """RFC 6902 subset: add, remove, replace, test."""
    doc = copy.deepcopy(doc)

    def walk(path):
        if not path.startswith("/"):
            raise ApiError(422, "invalid JSON pointer %r" % path)
        parts = [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]
        parent = doc
        for p in parts[:-1]:
            parent = parent[int(p)] if isinstance(parent, list) else parent[p]
        return parent, parts[-1]

    for op in ops:
        kind = op.get("op")
        try:
            parent, last = walk(op.get("path", ""))
            if kind in ("add", "replace"):
                if isinstance(parent, list):
                    if last == "-":
                        parent.append(op["value"])
                    elif kind == "add":
                        parent.insert(int(last), op["value"])
                    else:
                        parent[int(last)] = op["value"]
                else:
                    if kind == "replace" and last not in parent:
                        raise KeyError(last)
                    parent[last] = op["value"]
            elif kind == "remove":
                if isinstance(parent, list):
                    del parent[int(last)]
                else:
                    del parent[last]
            elif kind == "test":
                cur = parent[int(last)] if isinstance(parent, list) else parent[last]
                if cur != op.get("value"):
                    raise ApiError(422, "test operation failed at %s" % op.get("path"))
            else:
                raise ApiError(422, "unsupported JSON patch operation %r" % kind)
        except (KeyError, IndexError, ValueError, TypeError) as e:
            raise ApiError(422, "JSON patch %s %s failed: %s" % (kind, op.get("path"), e))
    return doc


# --------------------------------------------------------------------------
# State


class Watcher:
    def __init__(self, resource, namespace, label_pred, field_pred, bookmarks):
        self.resource = resource
        self.namespace = namespace
        self.label_pred = label_pred
        self.field_pred = field_pred
        self.bookmarks = bookmarks
        self.queue = deque()  # ("event", type, obj, prev) | ("bookmark", annotations, rv) | ("error", status)
        self.dropped = False
        self.ended = False  # clean end requested
        self.stalled = False
        self.bookmark_now = False

    def matches(self, obj):
        if obj is None:
            return False
        meta = obj.get("metadata", {})
        if self.namespace and meta.get("namespace") != self.namespace:
            return False
        return self.label_pred(meta.get("labels")) and self.field_pred(obj)


class State:
    def __init__(self, args):
        self.cond = threading.Condition()
        self.rv = 1  # the global resourceVersion counter
        self.objects = {}  # (resource, ns, name) -> object (stored form)
        self.history = []  # list of dict(rv, resource, type, obj, prev)
        self.history_start = 1  # watch from rv >= history_start can be served
        self.history_limit = args.history_limit
        self.watchers = set()
        self.stall_new = False
        self.fail_rules = []
        self.counts = {}  # "METHOD path?query" -> n
        self.request_log = deque(maxlen=10000)
        self.preferred_version = args.preferred_version
        self.served_versions = list(SMI_VERSIONS)
        self.group_versions = {}  # group -> the versions still served, preferred first
        self.gone_mode = args.gone_mode
        self.bookmark_interval = args.bookmark_interval
        self.default_watch_timeout = args.default_watch_timeout
        self.rewrite_api_version = not args.keep_api_version
        self.watch_count = 0  # watch requests started (served)
        self.slow_ms = 0
        self.hang_generation = 0  # bumped to release requests held by an injected hang
        self.hung = 0
        self.state_file = getattr(args, "state_file", None)
        if self.state_file and os.path.exists(self.state_file):
            self.load()

    # ---- persistence (--state-file): objects, the resourceVersion counter and the
    # history survive a restart, as they survive in etcd when a real API server restarts
    def load(self):
        with open(self.state_file, encoding="utf-8") as f:
            saved = json.load(f)
        self.rv = saved["rv"]
        self.objects = {tuple(k): o for k, o in saved["objects"]}
        self.history = saved["history"]
        self.history_start = saved["history_start"]

    def save(self):
        """Writes the state atomically. Caller holds the lock."""
        if not self.state_file:
            return
        saved = {"rv": self.rv, "objects": [[list(k), o] for k, o in self.objects.items()],
                 "history": self.history, "history_start": self.history_start}
        tmp = self.state_file + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(saved, f)
        os.replace(tmp, self.state_file)

    # ---- objects
    def _next_rv(self):
        self.rv += 1
        return self.rv

    def record(self, resource, etype, obj, prev):
        """Appends an event and fans it out. Caller holds the lock."""
        ev = {"rv": int(obj["metadata"]["resourceVersion"]), "resource": resource,
              "type": etype, "obj": obj, "prev": prev}
        self.history.append(ev)
        if self.history_limit and len(self.history) > self.history_limit:
            drop = len(self.history) - self.history_limit
            self.history_start = self.history[drop - 1]["rv"]
            del self.history[:drop]
        self.save()
        for w in self.watchers:
            if w.resource == resource:
                w.queue.append(("event", etype, obj, prev))
        self.cond.notify_all()

    def compact(self):
        with self.cond:
            self.history = []
            self.history_start = self.rv
            self.save()
            return self.rv

    def put_object(self, resource, obj, expect_rv=None, create=False, must_exist=False):
        """Create or replace. Returns (stored object, created?). Caller holds lock."""
        meta = obj.setdefault("metadata", {})
        key = (resource, meta.get("namespace", ""), meta["name"])
        old = self.objects.get(key)
        if create and old is not None:
            raise ApiError(409, '%s "%s" already exists' % (resource_label(resource), meta["name"]),
                           "AlreadyExists", details_for(resource, meta["name"]))
        if must_exist and old is None:
            raise ApiError(404, '%s "%s" not found' % (resource_label(resource), meta["name"]),
                           details=details_for(resource, meta["name"]))
        if old is not None and expect_rv and expect_rv != old["metadata"]["resourceVersion"]:
            raise ApiError(409, 'Operation cannot be fulfilled on %s "%s": the object has been '
                           "modified; please apply your changes to the latest version and try again"
                           % (resource_label(resource), meta["name"]), "Conflict",
                           details_for(resource, meta["name"]))
        if old is not None:
            # server-managed fields survive updates
            for f in ("uid", "creationTimestamp"):
                if f in old["metadata"]:
                    meta[f] = old["metadata"][f]
            if RESOURCES[resource]["generation"]:
                meta["generation"] = old["metadata"].get("generation", 1)
            meta["resourceVersion"] = old["metadata"]["resourceVersion"]
            if obj == old:
                return old, False  # no-op update: no new resourceVersion, no event
            if RESOURCES[resource]["generation"] and spec_of(resource, obj) != spec_of(resource, old):
                meta["generation"] = meta["generation"] + 1
        else:
            meta["uid"] = str(uuid.uuid4())
            meta["creationTimestamp"] = now_rfc3339()
            if RESOURCES[resource]["generation"]:
                meta["generation"] = 1
        meta["resourceVersion"] = str(self._next_rv())
        self.objects[key] = obj
        self.record(resource, "ADDED" if old is None else "MODIFIED", obj, old)
        return obj, old is None

    def delete_object(self, resource, ns, name, precondition_rv=None, precondition_uid=None):
        key = (resource, ns, name)
        old = self.objects.get(key)
        if old is None:
            raise ApiError(404, '%s "%s" not found' % (resource_label(resource), name),
                           details=details_for(resource, name))
        if precondition_rv and precondition_rv != old["metadata"]["resourceVersion"]:
            raise ApiError(409, 'Operation cannot be fulfilled on %s "%s": Precondition failed: '
                           "ResourceVersion in precondition: %s, ResourceVersion in object meta: %s"
                           % (resource_label(resource), name, precondition_rv,
                              old["metadata"]["resourceVersion"]), "Conflict",
                           details_for(resource, name))
        if precondition_uid and precondition_uid != old["metadata"].get("uid"):
            raise ApiError(409, 'Operation cannot be fulfilled on %s "%s": Precondition failed: '
                           "UID in precondition: %s, UID in object meta: %s"
                           % (resource_label(resource), name, precondition_uid,
                              old["metadata"].get("uid")), "Conflict", details_for(resource, name))
        del self.objects[key]
        gone = copy.deepcopy(old)
        gone["metadata"]["resourceVersion"] = str(self._next_rv())
        self.record(resource, "DELETED", gone, old)
        return old

    def list_objects(self, resource, ns):
        items = [o for (r, n, _), o in self.objects.items() if r == resource and (not ns or n == ns)]
        items.sort(key=lambda o: (o["metadata"].get("namespace", ""), o["metadata"]["name"]))
        return items

    # ---- fault injection and counting
    def count_and_maybe_fail(self, method, path_qs):
        with self.cond:
            key = "%s %s" % (method, path_qs)
            self.counts[key] = self.counts.get(key, 0) + 1
            for rule in self.fail_rules:
                if rule["remaining"] == 0:
                    continue
                if rule.get("path") and rule["path"] not in path_qs:
                    continue
                if rule.get("method") and rule["method"].upper() != method:
                    continue
                if rule["remaining"] > 0:
                    rule["remaining"] -= 1
                self.fail_rules = [r for r in self.fail_rules if r["remaining"] != 0]
                headers = {}
                if rule.get("retry_after") is not None:
                    headers["Retry-After"] = str(rule["retry_after"])
                return ApiError(rule["status"], rule.get("message") or "injected failure",
                                headers=headers)
        return None


def spec_of(resource, obj):
    """The fields whose change bumps metadata.generation."""
    return [obj.get(f) for f in RESOURCES[resource].get("spec", ("spec",))]


def resource_label(resource):
    info = RESOURCES[resource]
    return resource if not info["group"] else "%s.%s" % (resource, info["group"])


def details_for(resource, name):
    d = {"name": name, "kind": resource}
    if RESOURCES[resource]["group"]:
        d["group"] = RESOURCES[resource]["group"]
    return d


# --------------------------------------------------------------------------
# Discovery documents


def api_resource(resource, verbs=None):
    info = RESOURCES[resource]
    return {
        "name": resource,
        "singularName": info["singular"],
        "namespaced": True,
        "kind": info["kind"],
        "verbs": verbs or ["create", "delete", "deletecollection", "get", "list", "patch",
                           "update", "watch"],
        "shortNames": info["short"],
        "storageVersionHash": base64.b64encode(resource.encode()).decode()[:12],
    }


def smi_versions(state):
    pref = state.preferred_version
    versions = [v for v in state.served_versions]
    if pref in versions:  # the preferred version comes first, like the real server
        versions.remove(pref)
        versions.insert(0, pref)
    return [{"groupVersion": "%s/%s" % (SMI_GROUP, v), "version": v} for v in versions], pref


def smi_group(state):
    versions, pref = smi_versions(state)
    return {"name": SMI_GROUP, "versions": versions,
            "preferredVersion": {"groupVersion": "%s/%s" % (SMI_GROUP, pref), "version": pref}}


def static_groups(state):
    """Discovery of the groups with fixed versions (every group but SMI's), less the ones the
    control port's `group_versions` stops serving."""
    groups = {}
    for info in RESOURCES.values():
        if info["group"] and "versions" in info:
            groups.setdefault(info["group"], state.group_versions.get(info["group"], info["versions"]))
    return [{"name": g, "versions": [{"groupVersion": "%s/%s" % (g, v), "version": v} for v in vs],
             "preferredVersion": {"groupVersion": "%s/%s" % (g, vs[0]), "version": vs[0]}}
            for g, vs in groups.items() if vs]


def static_resources(state, group, version):
    """Resource names served at /apis/GROUP/VERSION (empty: not served)."""
    if version not in state.group_versions.get(group, (version,)):
        return []
    return [r for r, info in RESOURCES.items()
            if info["group"] == group and version in info.get("versions", ())]


# --------------------------------------------------------------------------
# HTTP handling


class ApiHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-kube-apiserver"
    sys_version = ""

    def log_message(self, fmt, *args):  # noqa: N802 (stdlib name)
        log("%s %s" % (self.address_string(), fmt % args))

    # ---- response helpers
    def send_json(self, code, obj, headers=None):
        body = json.dumps(obj, separators=(",", ":")).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-cache, private")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.wfile.flush()
        self.server.state_obj.request_log.append(
            {"method": self.command, "path": self.path, "code": code})

    def send_error_status(self, err):
        self.send_json(err.code, err.status, err.headers)

    def read_body(self):
        if getattr(self, "_body_consumed", False):
            return b""
        self._body_consumed = True
        length = self.headers.get("Content-Length")
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                line = self.rfile.readline()
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        if length:
            return self.rfile.read(int(length))
        return b""

    def read_json_body(self):
        raw = self.read_body()
        try:
            return json.loads(raw.decode("utf-8")) if raw else None
        except (ValueError, UnicodeDecodeError) as e:
            raise ApiError(400, "the body of the request was in an unknown format: %s" % e)

    # ---- auth
    def check_auth(self):
        srv = self.server
        if srv.tokens_file is None:
            return None
        try:
            with open(srv.tokens_file, "r", encoding="utf-8") as f:
                allowed = {line.strip() for line in f if line.strip() and not line.startswith("#")}
        except OSError:
            allowed = set()
        if srv.accept_client_certs:
            try:
                if self.connection.getpeercert():
                    return None
            except (AttributeError, ValueError):
                pass
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Bearer ") and auth[len("Bearer "):].strip() in allowed:
            return None
        return ApiError(401, "Unauthorized")

    # ---- dispatch
    def do_GET(self):  # noqa: N802
        self.dispatch()

    def do_HEAD(self):  # noqa: N802
        self.dispatch()

    def do_POST(self):  # noqa: N802
        self.dispatch()

    def do_PUT(self):  # noqa: N802
        self.dispatch()

    def do_PATCH(self):  # noqa: N802
        self.dispatch()

    def do_DELETE(self):  # noqa: N802
        self.dispatch()

    def dispatch(self):
        state = self.server.state_obj
        self._body_consumed = False
        try:
            url = urllib.parse.urlsplit(self.path)
            query = {k: v[-1] for k, v in urllib.parse.parse_qs(url.query, keep_blank_values=True).items()}
            injected = state.count_and_maybe_fail(self.command, self.path)
            if state.slow_ms:
                time.sleep(state.slow_ms / 1000.0)
            if injected is not None:
                self.read_body()
                if injected.code == 0:  # injected connection reset: no answer at all
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if injected.code < 0:  # injected hang: no answer until released
                    with state.cond:
                        generation = state.hang_generation
                        state.hung += 1
                        while state.hang_generation == generation and not self.client_gone():
                            state.cond.wait(0.5)
                        state.hung -= 1
                    self.close_connection = True
                    try:
                        self.connection.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                    return
                raise injected
            err = self.check_auth()
            if err is not None:
                self.read_body()
                raise err
            self.route(url.path.rstrip("/") or "/", query)
        except ApiError as e:
            self.read_body()
            self.send_error_status(e)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, socket.timeout):
            self.close_connection = True
        except Exception as e:  # pylint: disable=broad-except
            log("internal error: %r" % e)
            self.close_connection = True  # the request body may be unread
            try:
                self.send_error_status(ApiError(500, "internal error: %r" % e))
            except OSError:
                pass

    def route(self, path, query):
        state = self.server.state_obj
        parts = [urllib.parse.unquote(p) for p in path.split("/") if p]
        if self.command in ("GET", "HEAD"):
            if path == "/version":
                return self.send_json(200, {
                    "major": "1", "minor": "29", "gitVersion": "v1.29.0-fake",
                    "gitCommit": "0000000000000000000000000000000000000000",
                    "gitTreeState": "clean", "buildDate": "2024-01-01T00:00:00Z",
                    "goVersion": "go1.21.0", "compiler": "gc", "platform": "linux/amd64"})
            if path in ("/healthz", "/readyz", "/livez"):
                body = b"ok"
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return None
            if path == "/api":
                return self.send_json(200, {
                    "kind": "APIVersions", "versions": ["v1"],
                    "serverAddressByClientCIDRs": [
                        {"clientCIDR": "0.0.0.0/0", "serverAddress": self.server.host_port}]})
            if path == "/api/v1":
                return self.send_json(200, {
                    "kind": "APIResourceList", "groupVersion": "v1",
                    "resources": [api_resource("configmaps"), {
                        "name": "namespaces", "singularName": "namespace", "namespaced": False,
                        "kind": "Namespace", "verbs": ["get", "list"], "shortNames": ["ns"]}]})
            if path == "/apis":
                with state.cond:
                    group = smi_group(state)
                return self.send_json(200, {"kind": "APIGroupList", "apiVersion": "v1",
                                            "groups": [group] + static_groups(state)})
            for group in static_groups(state):
                if path == "/apis/" + group["name"]:
                    return self.send_json(200, dict(group, kind="APIGroup", apiVersion="v1"))
            if len(parts) == 3 and parts[0] == "apis" and static_resources(state, parts[1], parts[2]):
                return self.send_json(200, {
                    "kind": "APIResourceList", "apiVersion": "v1",
                    "groupVersion": "%s/%s" % (parts[1], parts[2]),
                    "resources": [api_resource(r) for r in static_resources(state, parts[1], parts[2])]})
            if path == "/apis/" + SMI_GROUP:
                with state.cond:
                    group = smi_group(state)
                group.update({"kind": "APIGroup", "apiVersion": "v1"})
                return self.send_json(200, group)
            if len(parts) == 3 and parts[0] == "apis" and parts[1] == SMI_GROUP:
                if parts[2] not in state.served_versions:
                    raise ApiError(404, "the server could not find the requested resource")
                return self.send_json(200, {
                    "kind": "APIResourceList", "apiVersion": "v1",
                    "groupVersion": "%s/%s" % (SMI_GROUP, parts[2]),
                    "resources": [api_resource("trafficsplits")]})
            if len(parts) == 4 and parts[:3] == ["api", "v1", "namespaces"]:
                return self.send_json(200, {
                    "kind": "Namespace", "apiVersion": "v1",
                    "metadata": {"name": parts[3], "uid": str(uuid.uuid5(uuid.NAMESPACE_DNS, parts[3])),
                                 "resourceVersion": "1", "creationTimestamp": "2024-01-01T00:00:00Z"},
                    "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}})
        target = self.parse_resource_path(parts)
        if target is None:
            raise ApiError(404, "the server could not find the requested resource")
        resource, version, ns, name, watch_path = target
        if watch_path:
            query["watch"] = "true"
        is_watch = query.get("watch", "").lower() in ("1", "true")
        method = self.command
        if method in ("GET", "HEAD"):
            if name is None and is_watch:
                return self.handle_watch(resource, version, ns, query)
            if name is None:
                return self.handle_list(resource, version, ns, query)
            if is_watch:
                query["fieldSelector"] = "metadata.name=%s" % name
                return self.handle_watch(resource, version, ns, query)
            with state.cond:
                obj = state.objects.get((resource, ns, name))
                if obj is None:
                    raise ApiError(404, '%s "%s" not found' % (resource_label(resource), name),
                                   details=details_for(resource, name))
                out = self.present(resource, version, obj)
            return self.send_json(200, out)
        if ns is None:
            raise ApiError(405, "the server does not allow this method on the requested resource",
                           "MethodNotAllowed")
        if method == "POST" and name is None:
            return self.handle_create(resource, version, ns, query)
        if method == "PUT" and name is not None:
            return self.handle_update(resource, version, ns, name, query)
        if method == "PATCH" and name is not None:
            return self.handle_patch(resource, version, ns, name, query)
        if method == "DELETE" and name is not None:
            return self.handle_delete(resource, version, ns, name)
        if method == "DELETE" and name is None:
            return self.handle_delete_collection(resource, version, ns, query)
        raise ApiError(405, "the server does not allow this method on the requested resource",
                       "MethodNotAllowed")

    def parse_resource_path(self, parts):
        """Returns (resource, version, ns or None, name or None, watch_path) or None."""
        state = self.server.state_obj
        watch_path = False
        if len(parts) >= 2 and parts[0] == "api" and parts[1] == "v1":
            rest, version, allowed = parts[2:], "v1", ("configmaps",)
        elif len(parts) >= 3 and parts[0] == "apis" and parts[1] == SMI_GROUP:
            if parts[2] not in state.served_versions:
                return None
            rest, version, allowed = parts[3:], parts[2], ("trafficsplits",)
        elif len(parts) >= 3 and parts[0] == "apis" and static_resources(state, parts[1], parts[2]):
            rest, version, allowed = parts[3:], parts[2], static_resources(state, parts[1], parts[2])
        else:
            return None
        if rest and rest[0] == "watch":
            watch_path, rest = True, rest[1:]
        ns = None
        if len(rest) >= 3 and rest[0] == "namespaces":
            ns, rest = rest[1], rest[2:]
        if not rest or rest[0] not in allowed or len(rest) > 2:
            return None
        return rest[0], version, ns, (rest[1] if len(rest) == 2 else None), watch_path

    def api_version_for(self, resource, version):
        return "v1" if resource == "configmaps" else "%s/%s" % (RESOURCES[resource]["group"], version)

    def present(self, resource, version, obj):
        out = copy.deepcopy(obj)
        if resource != "configmaps" and self.server.state_obj.rewrite_api_version:
            out["apiVersion"] = self.api_version_for(resource, version)
        return out

    def served(self, resource, version, obj):
        """present() for an object that is only serialised: stored objects are never changed
        in place, so a shallow copy does (a deep copy per object made lists and watch bursts
        of 1,000 objects slow)."""
        if resource == "configmaps" or not self.server.state_obj.rewrite_api_version:
            return obj
        out = dict(obj)
        out["apiVersion"] = self.api_version_for(resource, version)
        return out

    def check_body(self, resource, version, ns, body, name=None):
        if not isinstance(body, dict):
            raise ApiError(400, "the body of the request must be a JSON object")
        kind = RESOURCES[resource]["kind"]
        if body.get("kind", kind) != kind:
            raise ApiError(400, "the API version in the data (%s) does not match the expected "
                           "API version or kind (%s)" % (body.get("kind"), kind))
        api_version = body.get("apiVersion")
        if resource == "configmaps":
            if api_version not in (None, "v1"):
                raise ApiError(400, "the API version in the data (%s) does not match the expected "
                               "API version (v1)" % api_version)
            body["apiVersion"] = "v1"
            for section in ("data", "binaryData"):
                values = body.get(section)
                if values is None:
                    continue
                if not isinstance(values, dict) or not all(isinstance(v, str) for v in values.values()):
                    raise ApiError(400, "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: "
                                   "%s values must be strings" % section)
        else:
            group = RESOURCES[resource]["group"]
            if api_version is not None and api_version != "%s/%s" % (group, version):
                if not (isinstance(api_version, str) and api_version.startswith(group + "/")):
                    raise ApiError(400, "the API version in the data (%s) does not match the "
                                   "expected API version (%s/%s)" % (api_version, group, version))
            body["apiVersion"] = "%s/%s" % (group, version)
        body["kind"] = kind
        if resource == "endpointslices" and body.get("addressType") not in ("IPv4", "IPv6", "FQDN"):
            raise ApiError(422, 'EndpointSlice.discovery.k8s.io "%s" is invalid: addressType: '
                           'Unsupported value: %s: supported values: "FQDN", "IPv4", "IPv6"'
                           % ((body.get("metadata") or {}).get("name", ""),
                              json.dumps(body.get("addressType"))), "Invalid")
        meta = body.setdefault("metadata", {})
        if not isinstance(meta, dict):
            raise ApiError(400, "metadata must be an object")
        if meta.get("namespace", ns) != ns:
            raise ApiError(400, "the namespace of the provided object does not match the namespace "
                           "sent on the request")
        meta["namespace"] = ns
        if name is not None:
            if meta.get("name", name) != name:
                raise ApiError(400, "the name of the object (%s) does not match the name on the URL "
                               "(%s)" % (meta.get("name"), name))
            meta["name"] = name
        for f in ("managedFields", "selfLink"):
            meta.pop(f, None)
        return body

    def finish_body_name(self, resource, meta):
        if not meta.get("name"):
            if meta.get("generateName"):
                meta["name"] = meta["generateName"] + uuid.uuid4().hex[:5]
            else:
                raise ApiError(422, '%s "" is invalid: metadata.name: Required value: name or '
                               "generateName is required" % RESOURCES[resource]["kind"], "Invalid")
        if not re.match(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$", meta["name"]) or len(meta["name"]) > 253:
            raise ApiError(422, '%s "%s" is invalid: metadata.name: Invalid value' %
                           (RESOURCES[resource]["kind"], meta["name"]), "Invalid")

    def dry_run(self, query):
        return query.get("dryRun", "") == "All"

    def handle_create(self, resource, version, ns, query):
        state = self.server.state_obj
        body = self.check_body(resource, version, ns, self.read_json_body())
        meta = body["metadata"]
        self.finish_body_name(resource, meta)
        if meta.get("resourceVersion"):
            raise ApiError(400, "resourceVersion should not be set on objects to be created")
        with state.cond:
            if self.dry_run(query):
                if (resource, ns, meta["name"]) in state.objects:
                    raise ApiError(409, '%s "%s" already exists' % (resource_label(resource), meta["name"]),
                                   "AlreadyExists", details_for(resource, meta["name"]))
                return self.send_json(201, self.present(resource, version, body))
            obj, _ = state.put_object(resource, body, create=True)
            out = self.present(resource, version, obj)
        self.send_json(201, out)

    def handle_update(self, resource, version, ns, name, query):
        state = self.server.state_obj
        body = self.check_body(resource, version, ns, self.read_json_body(), name)
        with state.cond:
            expect = body["metadata"].get("resourceVersion") or None
            if expect is None and RESOURCES[resource].get("custom"):
                raise ApiError(422, '%s.%s "%s" is invalid: metadata.resourceVersion: Invalid value: '
                               "0x0: must be specified for an update"
                               % (RESOURCES[resource]["kind"], RESOURCES[resource]["group"], name),
                               "Invalid")
            if self.dry_run(query):
                old = state.objects.get((resource, ns, name))
                if old is None:
                    raise ApiError(404, '%s "%s" not found' % (resource_label(resource), name),
                                   details=details_for(resource, name))
                return self.send_json(200, self.present(resource, version, body))
            obj, _ = state.put_object(resource, body, expect_rv=expect, must_exist=True)
            out = self.present(resource, version, obj)
        self.send_json(200, out)

    def handle_patch(self, resource, version, ns, name, query):
        state = self.server.state_obj
        ctype = self.headers.get("Content-Type", "").split(";")[0].strip()
        patch = self.read_json_body()
        if ctype not in ("application/merge-patch+json", "application/strategic-merge-patch+json",
                         "application/json-patch+json", "application/apply-patch+yaml"):
            raise ApiError(415, "the body of the request was in an unknown format - accepted media "
                           "types include: application/json-patch+json, application/merge-patch+json",
                           "UnsupportedMediaType")
        if ctype == "application/apply-patch+yaml":
            raise ApiError(415, "server-side apply is not supported by this test server",
                           "UnsupportedMediaType")
        with state.cond:
            old = state.objects.get((resource, ns, name))
            if old is None:
                raise ApiError(404, '%s "%s" not found' % (resource_label(resource), name),
                               details=details_for(resource, name))
            current = self.present(resource, version, old)
            if ctype == "application/json-patch+json":
                if not isinstance(patch, list):
                    raise ApiError(400, "JSON patch must be a list of operations")
                new = json_patch(current, patch)
            else:
                if not isinstance(patch, dict):
                    raise ApiError(400, "merge patch must be a JSON object")
                new = merge_patch(current, patch)
            expect = None
            patch_meta = patch.get("metadata") if isinstance(patch, dict) else None
            if isinstance(patch_meta, dict) and patch_meta.get("resourceVersion"):
                expect = patch_meta["resourceVersion"]
            new = self.check_body(resource, version, ns, new, name)
            if self.dry_run(query):
                return self.send_json(200, self.present(resource, version, new))
            obj, _ = state.put_object(resource, new, expect_rv=expect, must_exist=True)
            out = self.present(resource, version, obj)
        self.send_json(200, out)

    def handle_delete(self, resource, version, ns, name):
        state = self.server.state_obj
        opts = self.read_json_body() or {}
        pre = opts.get("preconditions") or {} if isinstance(opts, dict) else {}
        with state.cond:
            old = state.delete_object(resource, ns, name, pre.get("resourceVersion"), pre.get("uid"))
            uid = old["metadata"].get("uid")
        self.send_json(200, {"kind": "Status", "apiVersion": "v1", "metadata": {},
                             "status": "Success",
                             "details": dict(details_for(resource, name), uid=uid)})

    def handle_delete_collection(self, resource, version, ns, query):
        state = self.server.state_obj
        self.read_body()
        label_pred = parse_label_selector(query.get("labelSelector", ""))
        field_pred = parse_field_selector(query.get("fieldSelector", ""))
        with state.cond:
            victims = [o for o in state.list_objects(resource, ns)
                       if label_pred(o["metadata"].get("labels")) and field_pred(o)]
            for o in victims:
                state.delete_object(resource, ns, o["metadata"]["name"])
            out = self.list_body(resource, version, [self.present(resource, version, o) for o in victims])
        self.send_json(200, out)

    def list_body(self, resource, version, items):
        state = self.server.state_obj
        return {"kind": RESOURCES[resource]["kind"] + "List",
                "apiVersion": self.api_version_for(resource, version),
                "metadata": {"resourceVersion": str(state.rv)}, "items": items}

    def handle_list(self, resource, version, ns, query):
        state = self.server.state_obj
        label_pred = parse_label_selector(query.get("labelSelector", ""))
        field_pred = parse_field_selector(query.get("fieldSelector", ""))
        limit = int(query.get("limit") or 0)
        cont = query.get("continue") or ""
        with state.cond:
            rv_param = query.get("resourceVersion", "")
            if rv_param and rv_param != "0":
                try:
                    wanted = int(rv_param)
                except ValueError:
                    raise ApiError(400, "invalid resource version %r" % rv_param)
                if wanted > state.rv:
                    # the real server waits a few seconds for the cache first
                    raise ApiError(504, "Too large resource version: %d, current: %d"
                                   % (wanted, state.rv), "Timeout",
                                   {"causes": [{"reason": "ResourceVersionTooLarge",
                                                "message": "Too large resource version"}],
                                    "retryAfterSeconds": 1})
            if (rv_param and rv_param != "0" and query.get("resourceVersionMatch") == "Exact"
                    and int(rv_param) < state.history_start):
                # (a served Exact list shows the current state: no snapshots are kept)
                raise ApiError(410, "too old resource version: %s (%d)"
                               % (rv_param, state.history_start), "Expired")
            items = [self.served(resource, version, o) for o in state.list_objects(resource, ns)
                     if label_pred(o["metadata"].get("labels")) and field_pred(o)]
            body = self.list_body(resource, version, items)
            if cont:
                try:
                    token = json.loads(base64.urlsafe_b64decode(cont.encode()).decode())
                    after = tuple(token["after"])
                    body["metadata"]["resourceVersion"] = token["rv"]
                except (ValueError, KeyError, TypeError):
                    raise ApiError(400, "continue key is not valid")
                items = [o for o in items
                         if (o["metadata"]["namespace"], o["metadata"]["name"]) > after]
            if limit and len(items) > limit:
                last = items[limit - 1]["metadata"]
                body["metadata"]["continue"] = base64.urlsafe_b64encode(json.dumps(
                    {"rv": body["metadata"]["resourceVersion"],
                     "after": [last["namespace"], last["name"]]}).encode()).decode()
                body["metadata"]["remainingItemCount"] = len(items) - limit
                items = items[:limit]
            body["items"] = items
        self.send_json(200, body)

    # ---- watch
    def write_chunks(self, items):
        if not items:
            return
        self.wfile.write(b"".join(b"%x\r\n%s\r\n" % (len(data), data) for data in items))
        self.wfile.flush()

    def client_gone(self):
        """True when the client closed its side of the connection."""
        sock = self.connection
        try:
            readable, _, _ = select.select([sock], [], [], 0)
            if not readable:
                return False
            sock.setblocking(False)
            try:
                data = sock.recv(1)
            finally:
                sock.setblocking(True)
            return data == b""
        except (ssl.SSLWantReadError, BlockingIOError):
            return False
        except (OSError, ValueError):
            return True

    def handle_watch(self, resource, version, ns, query):
        state = self.server.state_obj
        label_pred = parse_label_selector(query.get("labelSelector", ""))
        field_pred = parse_field_selector(query.get("fieldSelector", ""))
        bookmarks = query.get("allowWatchBookmarks", "").lower() in ("1", "true")
        timeout = query.get("timeoutSeconds")
        timeout = float(timeout) if timeout else float(state.default_watch_timeout)
        rv_param = query.get("resourceVersion", "")
        watcher = Watcher(resource, ns, label_pred, field_pred, bookmarks)
        api_version = self.api_version_for(resource, version)
        kind = RESOURCES[resource]["kind"]
        initial_events = query.get("sendInitialEvents", "").lower() in ("1", "true")
        with state.cond:
            gone = None
            if initial_events:
                # streaming list: ADDED for the current state, then (with bookmarks) a
                # BOOKMARK annotated k8s.io/initial-events-end
                for obj in state.list_objects(resource, ns):
                    watcher.queue.append(("event", "ADDED", obj, None))
                if bookmarks:
                    watcher.queue.append(("bookmark", {"k8s.io/initial-events-end": "true"}, state.rv))
            elif rv_param not in ("", "0"):
                try:
                    since = int(rv_param)
                except ValueError:
                    raise ApiError(400, "invalid resource version %r" % rv_param)
                if since < state.history_start:
                    gone = status_object(410, "too old resource version: %d (%d)"
                                         % (since, state.history_start), "Expired")
                    if state.gone_mode == "http":
                        raise ApiError(410, gone["message"], "Expired")
                    watcher.queue.append(("error", gone))
                    watcher.ended = True
                else:
                    for ev in state.history:
                        if ev["rv"] > since and ev["resource"] == resource:
                            watcher.queue.append(("event", ev["type"], ev["obj"], ev["prev"]))
            else:
                # no resourceVersion: synthetic ADDED events for the current state
                for obj in state.list_objects(resource, ns):
                    watcher.queue.append(("event", "ADDED", obj, None))
            if gone is None:
                state.watchers.add(watcher)
                watcher.stalled = state.stall_new
            state.watch_count += 1
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Cache-Control", "no-cache, private")
        self.end_headers()
        self.wfile.flush()
        deadline = time.monotonic() + timeout
        next_bookmark = time.monotonic() + state.bookmark_interval if state.bookmark_interval > 0 else None
        clean = True
        try:
            while True:
                with state.cond:
                    while True:
                        if watcher.dropped:
                            break
                        if not watcher.stalled:
                            if watcher.queue or watcher.bookmark_now:
                                break
                            now = time.monotonic()
                            if now >= deadline or watcher.ended:
                                break
                            if next_bookmark is not None and now >= next_bookmark:
                                break
                        wait = 1.0
                        if not watcher.stalled:
                            wait = min(wait, max(0.0, deadline - time.monotonic()))
                            if next_bookmark is not None:
                                wait = min(wait, max(0.0, next_bookmark - time.monotonic()))
                        state.cond.wait(wait)
                        if self.client_gone():
                            watcher.dropped = True
                    if watcher.dropped:
                        clean = False
                        break
                    items = list(watcher.queue)
                    watcher.queue.clear()
                    send_bookmark = False
                    now = time.monotonic()
                    if watcher.bookmark_now or (next_bookmark is not None and now >= next_bookmark):
                        send_bookmark = watcher.bookmarks
                        watcher.bookmark_now = False
                        if next_bookmark is not None:
                            next_bookmark = now + state.bookmark_interval
                    current_rv = state.rv
                    finished = (not items and (now >= deadline or watcher.ended))
                out = []
                for item in items:
                    if item[0] == "bookmark":
                        out.append({"type": "BOOKMARK", "object": {
                            "kind": kind, "apiVersion": api_version,
                            "metadata": {"resourceVersion": str(item[2]),
                                         "annotations": item[1]}}})
                        continue
                    if item[0] == "error":  # an ERROR event ends the stream
                        out.append({"type": "ERROR", "object": item[1]})
                        finished = True
                        send_bookmark = False
                        break
                    _, etype, obj, prev = item
                    if obj is None:
                        continue
                    new_match, old_match = watcher.matches(obj), watcher.matches(prev)
                    if etype == "DELETED":
                        if not old_match and not new_match:
                            continue
                    elif new_match and not old_match:
                        etype = "ADDED"
                    elif old_match and not new_match:
                        etype = "DELETED"
                    elif not new_match:
                        continue
                    out.append({"type": etype, "object": self.served(resource, version, obj)})
                if send_bookmark:
                    out.append({"type": "BOOKMARK", "object": {
                        "kind": kind, "apiVersion": api_version,
                        "metadata": {"resourceVersion": str(current_rv)}}})
                # Each event is one line in a chunk of its own, and the events taken together are
                # sent with one write, as kube-apiserver flushes only when no further event is
                # queued (one write per event made a burst of 1,000 arrive over ~100 ms).
                self.write_chunks([json.dumps(ev, separators=(",", ":")).encode() + b"\n"
                                   for ev in out])
                if finished:
                    break
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, socket.timeout, OSError):
            clean = False
        finally:
            with state.cond:
                state.watchers.discard(watcher)
        if clean:
            try:
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()
            except OSError:
                self.close_connection = True
        else:
            # abrupt end: no terminating chunk, connection torn down
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.server.state_obj.request_log.append(
            {"method": self.command, "path": self.path, "code": 200,
             "end": "clean" if clean else "dropped"})


# --------------------------------------------------------------------------
# Control port


class ControlHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # noqa: N802
        log("control: " + fmt % args)

    def reply(self, code, obj):
        body = json.dumps(obj).encode() + b"\n"
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def body(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if not raw.strip():
            return {}
        return json.loads(raw.decode("utf-8"))

    def do_GET(self):  # noqa: N802
        self.handle_control()

    def do_POST(self):  # noqa: N802
        self.handle_control()

    def handle_control(self):
        try:
            url = urllib.parse.urlsplit(self.path)
            query = {k: v[-1] for k, v in urllib.parse.parse_qs(url.query, keep_blank_values=True).items()}
            body = self.body() if self.command == "POST" else {}
            result = self.control(url.path.rstrip("/"), query, body)
            self.reply(200, result)
        except ApiError as e:
            self.reply(e.code, e.status)
        except (ValueError, KeyError, TypeError) as e:
            self.reply(400, status_object(400, "bad control request: %r" % e))

    def control(self, path, query, body):
        state = self.server.state_obj
        api = self.server.api_endpoint
        if path == "/state":
            with state.cond:
                return {"resourceVersion": str(state.rv), "historyStart": str(state.history_start),
                        "historyLength": len(state.history), "openWatches": len(state.watchers),
                        "watchRequests": state.watch_count, "hungRequests": state.hung, "preferredVersion": state.preferred_version,
                        "goneMode": state.gone_mode, "objects": len(state.objects),
                        "pendingFailures": sum(r["remaining"] for r in state.fail_rules)
                        if all(r["remaining"] > 0 for r in state.fail_rules) else -1}
        if path == "/drop-streams":
            with state.cond:
                n = len(state.watchers)
                for w in state.watchers:
                    w.dropped = True
                state.cond.notify_all()
            return {"dropped": n}
        if path == "/stream-error":
            code = int(body.get("code", 410))
            status = status_object(code, body.get("message") or (
                "too old resource version" if code == 410 else "injected stream error"),
                body.get("reason"))
            with state.cond:
                n = len(state.watchers)
                for w in state.watchers:
                    w.queue.append(("error", status))
                    w.ended = True
                state.cond.notify_all()
            return {"streams": n}
        if path == "/end-streams":
            with state.cond:
                n = len(state.watchers)
                for w in state.watchers:
                    w.ended = True
                state.cond.notify_all()
            return {"ended": n}
        if path == "/fail":
            rule = {"remaining": int(body.get("count", 1)), "status": int(body.get("status", 500)),
                    "path": body.get("path") or "", "method": body.get("method") or "",
                    "message": body.get("message") or "", "retry_after": body.get("retry_after")}
            with state.cond:
                if rule["remaining"] != 0:
                    state.fail_rules.append(rule)
            return {"ok": True}
        if path == "/release-hung":
            with state.cond:
                n = state.hung
                state.hang_generation += 1
                state.cond.notify_all()
            return {"released": n}
        if path == "/clear-failures":
            with state.cond:
                state.fail_rules = []
            return {"ok": True}
        if path == "/stall":
            stall = bool(body.get("stall", True))
            with state.cond:
                n = 0
                for w in state.watchers:
                    if w.stalled != stall:
                        n += 1
                    w.stalled = stall
                state.stall_new = stall and bool(body.get("new_streams", False))
                state.cond.notify_all()
            return {"streams": n}
        if path == "/compact":
            return {"resourceVersion": str(state.compact())}
        if path == "/bookmark":
            with state.cond:
                n = 0
                for w in state.watchers:
                    w.bookmark_now = True
                    n += w.bookmarks
                state.cond.notify_all()
            return {"streams": n}
        if path == "/config":
            with state.cond:
                if "preferred_version" in body:
                    if body["preferred_version"] not in SMI_VERSIONS:
                        raise ApiError(400, "unknown version %r" % body["preferred_version"])
                    state.preferred_version = body["preferred_version"]
                if "served_versions" in body:
                    state.served_versions = [v for v in SMI_VERSIONS if v in body["served_versions"]]
                for group, versions in body.get("group_versions", {}).items():
                    known = {v for i in RESOURCES.values() if i["group"] == group
                             for v in i.get("versions", ())}
                    if not known or not set(versions) <= known:
                        raise ApiError(400, "group_versions: %s serves only %s" % (group, sorted(known)))
                    state.group_versions[group] = list(versions)  # [] stops serving the group
                if "gone_mode" in body:
                    if body["gone_mode"] not in ("http", "event"):
                        raise ApiError(400, "gone_mode must be http or event")
                    state.gone_mode = body["gone_mode"]
                if "bookmark_interval" in body:
                    state.bookmark_interval = float(body["bookmark_interval"])
                if "default_watch_timeout" in body:
                    state.default_watch_timeout = float(body["default_watch_timeout"])
                if "history_limit" in body:
                    state.history_limit = int(body["history_limit"])
                if "slow_ms" in body:
                    state.slow_ms = int(body["slow_ms"])
                if "rewrite_api_version" in body:
                    state.rewrite_api_version = bool(body["rewrite_api_version"])
            return {"ok": True}
        if path == "/apply":
            objs = body.get("items") if body.get("kind", "").endswith("List") else [body]
            if "objects" in body:
                objs = body["objects"]
            out = []
            with state.cond:
                for obj in objs:  # parsed from this request's body: nothing else holds them
                    if not isinstance(obj, dict):
                        raise ApiError(400, "an object to apply must be a JSON object")
                    resource = KIND_TO_RESOURCE.get(obj.get("kind"))
                    if resource is None:
                        raise ApiError(400, "unsupported kind %r" % obj.get("kind"))
                    meta = obj.setdefault("metadata", {})
                    meta.setdefault("namespace", "default")
                    if not meta.get("name"):
                        raise ApiError(400, "object without metadata.name")
                    meta.pop("resourceVersion", None)
                    if resource == "configmaps":
                        obj["apiVersion"] = "v1"
                    stored, _ = state.put_object(resource, obj)
                    out.append({"kind": stored["kind"], "namespace": meta["namespace"],
                                "name": meta["name"],
                                "resourceVersion": stored["metadata"]["resourceVersion"]})
            return {"resourceVersion": str(state.rv), "applied": out}
        if path == "/delete":
            resource = KIND_TO_RESOURCE.get(body.get("kind"), body.get("kind"))
            if resource not in RESOURCES:
                raise ApiError(400, "unsupported kind %r" % body.get("kind"))
            with state.cond:
                state.delete_object(resource, body.get("namespace", "default"), body["name"])
                return {"resourceVersion": str(state.rv)}
        if path == "/get":
            resource = KIND_TO_RESOURCE.get(query.get("kind"), query.get("kind"))
            with state.cond:
                obj = state.objects.get((resource, query.get("namespace", "default"), query.get("name")))
                if obj is None:
                    raise ApiError(404, "not found")
                return copy.deepcopy(obj)
        if path == "/counts":
            with state.cond:
                return {"counts": dict(state.counts)}
        if path == "/count":
            method = query.get("method", "").upper()
            sub = query.get("path", "")
            watch = query.get("watch", "")  # "1": watch requests only, "0": all but watches
            with state.cond:
                n = 0
                for k, c in state.counts.items():
                    m, target = k.split(" ", 1)
                    if (method and m != method) or sub not in target:
                        continue
                    if watch in ("0", "1") and is_watch_request(target) != (watch == "1"):
                        continue
                    n += c
            return {"count": n}
        if path == "/reset-counts":
            with state.cond:
                state.counts = {}
                state.request_log.clear()
            return {"ok": True}
        if path == "/requests":
            with state.cond:
                return {"requests": list(state.request_log)}
        if path == "/outage":
            # {"down": true}: the API port refuses connections (open ones are torn down)
            # until {"down": false} or, with "seconds", until that long has passed.
            if body.get("down", True):
                changed = api.down()
                if body.get("seconds") is not None:
                    timer = threading.Timer(float(body["seconds"]), api.up)
                    timer.daemon = True
                    timer.start()
            else:
                changed = api.up()
            return {"changed": changed}
        if path == "/shutdown":
            threading.Thread(target=shutdown_all, args=(api, self.server), daemon=True).start()
            return {"ok": True}
        raise ApiError(404, "unknown control endpoint %s" % path)


def is_watch_request(target):
    url = urllib.parse.urlsplit(target)
    query = urllib.parse.parse_qs(url.query)
    if any(v.lower() in ("1", "true") for v in query.get("watch", [])):
        return True
    parts = url.path.split("/")
    return "watch" in parts[:4]


class ApiEndpoint:
    """The API listener. It can go down (connections refused, open ones torn
    down) and come back on the same port with the same certificate and state."""

    def __init__(self, host, port, state, tokens_file, accept_client_certs, ctx):
        self.lock = threading.Lock()
        self.host, self.port, self.state, self.ctx = host, port, state, ctx
        self.tokens_file, self.accept_client_certs = tokens_file, accept_client_certs
        self.server = None
        self.stopped = False
        self.done = threading.Event()
        self._start()

    def _start(self):
        srv = ApiServer((self.host, self.port), ApiHandler)
        srv.state_obj = self.state
        srv.tokens_file = self.tokens_file
        srv.accept_client_certs = self.accept_client_certs
        if self.ctx is not None:
            srv.socket = self.ctx.wrap_socket(srv.socket, server_side=True,
                                              do_handshake_on_connect=False)
        self.port = srv.server_address[1]
        srv.host_port = "%s:%d" % (self.host, self.port)
        threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True).start()
        self.server = srv

    def down(self):
        with self.lock:
            srv, self.server = self.server, None
        if srv is None:
            return False
        state = self.state
        with state.cond:
            for w in state.watchers:
                w.dropped = True
            state.hang_generation += 1
            state.cond.notify_all()
        srv.shutdown()
        srv.socket.close()
        srv.close_connections()
        return True

    def up(self):
        with self.lock:
            if self.server is not None or self.stopped:
                return False
            self._start()
            return True

    def stop(self):
        with self.lock:
            self.stopped = True
        self.down()
        self.done.set()


def shutdown_all(api, control):
    api.stop()
    control.shutdown()


# --------------------------------------------------------------------------
# Certificates and startup


def run_openssl(args, cwd):
    subprocess.run(["openssl"] + args, cwd=cwd, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.PIPE)


def make_certs(directory):
    """Generates a test CA and a server certificate for 127.0.0.1/localhost."""
    ext = os.path.join(directory, "server.ext")
    with open(ext, "w", encoding="utf-8") as f:
        f.write("basicConstraints=CA:FALSE\n"
                "keyUsage=digitalSignature,keyEncipherment\n"
                "extendedKeyUsage=serverAuth\n"
                "subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost,DNS:kubernetes,"
                "DNS:kubernetes.default.svc\n")
    run_openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                 "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj",
                 "/CN=crossover-test-ca", "-addext", "basicConstraints=critical,CA:TRUE",
                 "-addext", "keyUsage=critical,keyCertSign,cRLSign"], directory)
    run_openssl(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                 "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=kube-apiserver"],
                directory)
    run_openssl(["x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
                 "-CAcreateserial", "-out", "server.crt", "-days", "2", "-extfile", ext], directory)
    return (os.path.join(directory, "ca.crt"), os.path.join(directory, "server.crt"),
            os.path.join(directory, "server.key"))


def make_client_cert(directory):
    """A client certificate signed by the test CA (for kubeconfig client-certificate auth)."""
    ext = os.path.join(directory, "client.ext")
    with open(ext, "w", encoding="utf-8") as f:
        f.write("basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n"
                "extendedKeyUsage=clientAuth\n")
    run_openssl(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                 "-keyout", "client.key", "-out", "client.csr", "-subj",
                 "/O=system:masters/CN=crossover-test"], directory)
    run_openssl(["x509", "-req", "-in", "client.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
                 "-CAcreateserial", "-out", "client.crt", "-days", "2", "-extfile", ext], directory)
    return os.path.join(directory, "client.crt"), os.path.join(directory, "client.key")


class ApiServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, *args, **kwargs):
        self.conns = set()
        self.conns_lock = threading.Lock()
        super().__init__(*args, **kwargs)

    def get_request(self):
        sock, addr = super().get_request()
        with self.conns_lock:
            self.conns.add(sock)
        return sock, addr

    def shutdown_request(self, request):
        with self.conns_lock:
            self.conns.discard(request)
        super().shutdown_request(request)

    def close_connections(self):
        """Tears down every open connection (keep-alive ones included)."""
        with self.conns_lock:
            conns = list(self.conns)
        for c in conns:
            try:
                socket.socket.shutdown(c, socket.SHUT_RDWR)  # the TCP socket, under any TLS
            except OSError:
                pass

    def handle_error(self, request, client_address):
        # TLS handshakes refused by clients (wrong CA tests) and dropped
        # connections are expected here; keep stderr quiet unless verbose.
        if VERBOSE:
            super().handle_error(request, client_address)


def main():
    global VERBOSE  # pylint: disable=global-statement
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--control-port", type=int, default=0)
    p.add_argument("--plain-http", action="store_true", help="serve plain HTTP instead of HTTPS")
    p.add_argument("--dir", help="directory for certificates and token files (default: a temp dir "
                   "removed at exit)")
    p.add_argument("--token", help="initial token (default: random)")
    p.add_argument("--no-auth", action="store_true", help="accept requests without a token")
    p.add_argument("--no-client-certs", action="store_true",
                   help="do not accept client certificates as credentials")
    p.add_argument("--preferred-version", default="v1alpha2", choices=SMI_VERSIONS)
    p.add_argument("--gone-mode", default="event", choices=["event", "http"],
                   help="how a too-old watch resourceVersion is reported")
    p.add_argument("--bookmark-interval", type=float, default=0.0,
                   help="seconds between periodic BOOKMARK events (0: only on demand)")
    p.add_argument("--default-watch-timeout", type=float, default=1800.0)
    p.add_argument("--history-limit", type=int, default=0,
                   help="keep at most N events of history (0: unlimited)")
    p.add_argument("--keep-api-version", action="store_true",
                   help="serve TrafficSplits with the apiVersion they were written with")
    p.add_argument("--state-file", help="keep objects, resourceVersion and history in this JSON "
                   "file and load it at start (a restart keeps the state); with an existing "
                   "--dir, its certificates and token files are reused")
    p.add_argument("--ready-file", help="also write the ready JSON to this file")
    p.add_argument("--exit-with-parent", action="store_true",
                   help="shut down when the parent process goes away")
    p.add_argument("--verbose", action="store_true", help="log requests to stderr")
    args = p.parse_args()
    VERBOSE = args.verbose

    own_dir = args.dir is None
    directory = tempfile.mkdtemp(prefix="fake-apiserver-") if own_dir else args.dir
    os.makedirs(directory, exist_ok=True)

    token = args.token or uuid.uuid4().hex
    token_file = os.path.join(directory, "token")
    tokens_file = os.path.join(directory, "accepted-tokens")
    restarting = bool(args.state_file) and not own_dir and os.path.exists(tokens_file)
    if restarting:  # a restart: the token files stay as the clients and tests left them
        with open(token_file, encoding="utf-8") as f:
            token = f.read().strip() or token
    else:
        for path in (token_file, tokens_file):
            with open(path, "w", encoding="utf-8") as f:
                f.write(token + "\n")

    state = State(args)
    ca_file = client_cert = client_key = ""
    ctx = None
    if not args.plain_http:
        names = ("ca.crt", "server.crt", "server.key", "client.crt", "client.key")
        if restarting and all(os.path.exists(os.path.join(directory, n)) for n in names):
            ca_file, cert, key = (os.path.join(directory, n) for n in names[:3])
        else:
            ca_file, cert, key = make_certs(directory)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        ctx.set_alpn_protocols(["http/1.1"])
        if restarting and os.path.exists(os.path.join(directory, "client.key")):
            client_cert = os.path.join(directory, "client.crt")
            client_key = os.path.join(directory, "client.key")
        else:
            client_cert, client_key = make_client_cert(directory)
        if not args.no_client_certs:
            ctx.verify_mode = ssl.CERT_OPTIONAL  # a client certificate from the test CA also authenticates
            ctx.load_verify_locations(ca_file)
    api = ApiEndpoint(args.host, args.port, state, None if args.no_auth else tokens_file,
                      not args.plain_http and not args.no_client_certs, ctx)
    port = api.port

    control = ApiServer(("127.0.0.1", args.control_port), ControlHandler)
    control.state_obj = state
    control.api_endpoint = api

    scheme = "http" if args.plain_http else "https"
    ready = {"url": "%s://%s:%d" % (scheme, args.host, port),
             "control_url": "http://127.0.0.1:%d" % control.server_address[1],
             "ca_file": ca_file, "token_file": token_file, "accepted_tokens_file": tokens_file,
             "token": token, "client_cert_file": client_cert, "client_key_file": client_key,
             "dir": directory, "pid": os.getpid()}
    if args.ready_file:
        tmp = args.ready_file + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(ready, f)
        os.replace(tmp, args.ready_file)

    threading.Thread(target=control.serve_forever, kwargs={"poll_interval": 0.05},
                     daemon=True).start()

    def on_signal(_signum, _frame):
        threading.Thread(target=shutdown_all, args=(api, control), daemon=True).start()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    sys.stdout.write(json.dumps(ready) + "\n")
    sys.stdout.flush()

    parent = os.getppid()
    try:
        while not api.done.wait(0.5):
            if args.exit_with_parent and os.getppid() != parent:  # parent died: do not outlive the test
                shutdown_all(api, control)
    finally:
        if own_dir:
            shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
