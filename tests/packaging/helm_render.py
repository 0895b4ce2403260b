#!/usr/bin/env python3
"""A small renderer for the subset of Helm templates the crossover chart uses.

Used by helm_test.sh when no `helm` binary is available, so the chart is still rendered with real
values and its output checked as Kubernetes YAML. It renders strictly (a missing
map key is an error, as with `helm lint --strict`) and implements Go text/template actions (if /
else if / else, range with or without variables, with, define, include, template, variables,
pipelines, {{- -}} trimming, comments) and the Sprig/Helm functions the chart calls. Anything else
is an error, not a silent gap: a template using an unsupported function fails the test, and then
either the renderer learns it or the test runs with helm.

  helm_render.py CHART_DIR [-f VALUES.yaml]... [--namespace NS] [--release NAME]

prints the manifests as `helm template` does ("---\\n# Source: ..." before each document).
"""

import argparse
import copy
import hashlib
import json
import os
import re
import sys

import yaml


class TemplateError(Exception):
    pass


# ----------------------------------------------------------------------------- lexing
ACTION = re.compile(r"\{\{(-\s)?(.*?)(\s-)?\}\}", re.S)


def lex(text, name):
    """Splits template text into ("text", str) and ("action", str, line) items, applying trims."""
    items = []
    pos = 0
    for m in ACTION.finditer(text):
        chunk = text[pos:m.start()]
        if m.group(1):
            chunk = chunk.rstrip(" \t\r\n")
        items.append(["text", chunk])
        line = text.count("\n", 0, m.start()) + 1
        items.append(["action", m.group(2).strip(), line, bool(m.group(3))])
        pos = m.end()
    items.append(["text", text[pos:]])
    # right trims apply to the following text
    for i, it in enumerate(items):
        if it[0] == "action" and it[3] and i + 1 < len(items):
            items[i + 1][1] = items[i + 1][1].lstrip(" \t\r\n")
    return [(it[0], it[1]) if it[0] == "text" else ("action", it[1], f"{name}:{it[2]}")
            for it in items]


TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<str>"(?:[^"\\]|\\.)*")
  | (?P<raw>`[^`]*`)
  | (?P<num>-?\d+(?:\.\d+)?)
  | (?P<assign>:=|=(?!=))
  | (?P<pipe>\|)
  | (?P<lp>\()
  | (?P<rp>\))
  | (?P<comma>,)
  | (?P<var>\$[A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)
  | (?P<field>(?:\.[A-Za-z0-9_]+)+|\.)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
""", re.X)


def tokenize(expr, where):
    out = []
    pos = 0
    while pos < len(expr):
        m = TOKEN.match(expr, pos)
        if not m:
            raise TemplateError(f"{where}: cannot parse '{expr[pos:]}' in '{expr}'")
        pos = m.end()
        kind = m.lastgroup
        if kind == "ws":
            continue
        out.append((kind, m.group(kind)))
    return out


# ----------------------------------------------------------------------------- parsing
class Parser:
    def __init__(self, items, name, defines):
        self.items = items
        self.i = 0
        self.name = name
        self.defines = defines

    def parse(self, stop=()):
        """Parses until an action whose keyword is in stop; returns (nodes, stop_action)."""
        nodes = []
        while self.i < len(self.items):
            it = self.items[self.i]
            self.i += 1
            if it[0] == "text":
                if it[1]:
                    nodes.append(("text", it[1]))
                continue
            body, where = it[1], it[2]
            if body.startswith("/*"):
                if not body.endswith("*/"):
                    raise TemplateError(f"{where}: unterminated comment")
                continue
            kw = body.split(None, 1)[0] if body else ""
            rest = body[len(kw):].strip()
            if kw in stop:
                return nodes, (kw, rest, where)
            if kw == "if":
                nodes.append(self.parse_if(rest, where))
            elif kw in ("range", "with"):
                nodes.append(self.parse_block(kw, rest, where))
            elif kw == "define":
                name = json.loads(rest)
                body_nodes, end = self.parse(("end",))
                if end is None:
                    raise TemplateError(f"{where}: define without end")
                self.defines[name] = body_nodes
            elif kw == "template":
                toks = tokenize(rest, where)
                nodes.append(("template", json.loads(toks[0][1]),
                              parse_pipeline(toks[1:], where) if len(toks) > 1 else None, where))
            elif kw in ("end", "else"):
                raise TemplateError(f"{where}: unexpected {kw}")
            else:
                nodes.append(("output", parse_pipeline(tokenize(body, where), where), where))
        if stop:
            raise TemplateError(f"{self.name}: missing {{{{ end }}}}")
        return nodes, None

    def parse_if(self, cond, where):
        branches = []
        else_nodes = []
        current = cond
        while True:
            body, end = self.parse(("else", "end"))
            branches.append((parse_pipeline(tokenize(current, where), where), body))
            if end[0] == "end":
                break
            if end[1].startswith("if "):
                current = end[1][3:]
                continue
            else_nodes, end2 = self.parse(("end",))
            break
        return ("if", branches, else_nodes, where)

    def parse_block(self, kw, rest, where):
        toks = tokenize(rest, where)
        variables = []
        if any(t[0] == "assign" for t in toks):
            idx = [t[0] for t in toks].index("assign")
            variables = [t[1] for t in toks[:idx] if t[0] == "var"]
            toks = toks[idx + 1:]
        pipeline = parse_pipeline(toks, where)
        body, end = self.parse(("else", "end"))
        else_nodes = []
        if end[0] == "else":
            else_nodes, _ = self.parse(("end",))
        return (kw, variables, pipeline, body, else_nodes, where)


def parse_pipeline(toks, where):
    """Returns ("pipeline", decl, commands): decl is (var, op) for `$x := ...` or None."""
    decl = None
    if len(toks) >= 2 and toks[0][0] == "var" and toks[1][0] == "assign":
        decl = (toks[0][1], toks[1][1])
        toks = toks[2:]
    commands = []
    current = []
    depth = 0
    for t in toks:
        if t[0] == "lp":
            depth += 1
        elif t[0] == "rp":
            depth -= 1
        if t[0] == "pipe" and depth == 0:
            commands.append(parse_command(current, where))
            current = []
        else:
            current.append(t)
    commands.append(parse_command(current, where))
    return ("pipeline", decl, commands)


def parse_command(toks, where):
    if not toks:
        raise TemplateError(f"{where}: empty command")
    args = []
    i = 0
    while i < len(toks):
        kind, val = toks[i]
        if kind == "lp":
            depth = 1
            j = i + 1
            while depth:
                if j >= len(toks):
                    raise TemplateError(f"{where}: unbalanced parenthesis")
                depth += {"lp": 1, "rp": -1}.get(toks[j][0], 0)
                j += 1
            args.append(parse_pipeline(toks[i + 1:j - 1], where))
            i = j
            continue
        if kind == "str":
            args.append(("lit", json.loads(val)))
        elif kind == "raw":
            args.append(("lit", val[1:-1]))
        elif kind == "num":
            args.append(("lit", float(val) if "." in val else int(val)))
        elif kind == "field":
            args.append(("field", val))
        elif kind == "var":
            args.append(("var", val))
        elif kind == "ident":
            if val in ("true", "false"):
                args.append(("lit", val == "true"))
            elif val == "nil":
                args.append(("lit", None))
            else:
                args.append(("func", val))
        else:
            raise TemplateError(f"{where}: unexpected token {val!r}")
        i += 1
    return args


# ----------------------------------------------------------------------------- values
def truthy(v):
    if v is None or v is False:
        return False
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return v != 0
    if isinstance(v, (str, list, dict, tuple)):
        return len(v) > 0
    return True


def go_str(v):
    if v is None:
        return ""  # helm prints missing values as empty
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, float):
        return repr(v).rstrip("0").rstrip(".") if v != int(v) else str(int(v))
    if isinstance(v, list):
        return "[" + " ".join(go_str(x) for x in v) + "]"
    if isinstance(v, dict):
        return "map[" + " ".join(f"{k}:{go_str(v[k])}" for k in sorted(v)) + "]"
    return str(v)


def go_printf(fmt, *args):
    out = []
    i = 0
    ai = 0
    while i < len(fmt):
        c = fmt[i]
        if c == "%" and i + 1 < len(fmt):
            verb = fmt[i + 1]
            i += 2
            if verb == "%":
                out.append("%")
                continue
            if ai >= len(args):
                raise TemplateError(f"printf: missing argument for %{verb} in {fmt!r}")
            a = args[ai]
            ai += 1
            if verb in ("s", "v", "d"):
                out.append(go_str(a))
            elif verb == "q":
                out.append(json.dumps(go_str(a)))
            else:
                raise TemplateError(f"printf: verb %{verb} not supported")
            continue
        out.append(c)
        i += 1
    return "".join(out)


def to_yaml(v):
    if v is None:
        return "null"
    return yaml.safe_dump(v, default_flow_style=False, sort_keys=True).rstrip("\n")


def indent(n, s):
    pad = " " * n
    return "\n".join(pad + line for line in s.split("\n"))


# ----------------------------------------------------------------------------- evaluation
class Renderer:
    def __init__(self, defines, files):
        self.defines = defines
        self.files = files  # template path -> nodes

    def funcs(self):
        return {
            "default": lambda d, v=None: v if truthy(v) else d,
            "trunc": lambda n, s: s[:n],
            "trimSuffix": lambda suf, s: s[:-len(suf)] if suf and s.endswith(suf) else s,
            "trimPrefix": lambda pre, s: s[len(pre):] if pre and s.startswith(pre) else s,
            "contains": lambda sub, s: sub in s,
            "replace": lambda old, new, s: s.replace(old, new),
            "printf": go_printf,
            "print": lambda *a: "".join(go_str(x) for x in a),
            "quote": lambda *a: " ".join(json.dumps(go_str(x)) for x in a),
            "squote": lambda *a: " ".join("'" + go_str(x) + "'" for x in a),
            "toYaml": to_yaml,
            "nindent": lambda n, s: "\n" + indent(n, s),
            "indent": indent,
            "sha256sum": lambda s: hashlib.sha256(s.encode()).hexdigest(),
            "keys": lambda *ms: [k for m in ms for k in m],
            "sortAlpha": lambda l: sorted(go_str(x) for x in l),
            "list": lambda *a: list(a),
            "len": lambda x: len(x) if x is not None else 0,
            "eq": lambda a, *bs: any(a == b for b in bs),
            "ne": lambda a, b: a != b,
            "not": lambda a: not truthy(a),
            "lower": lambda s: s.lower(),
            "upper": lambda s: s.upper(),
            "toString": go_str,
            "int": lambda v: int(v),
            "get": lambda m, k: m.get(k, "") if isinstance(m, dict) else "",
            "hasKey": lambda m, k: isinstance(m, dict) and k in m,
        }

    def render_nodes(self, nodes, dot, scopes):
        out = []
        for node in nodes:
            kind = node[0]
            if kind == "text":
                out.append(node[1])
            elif kind == "output":
                val = self.eval_pipeline(node[1], dot, scopes, node[2])
                if node[1][1] is None:  # declarations print nothing
                    out.append(go_str(val))
            elif kind == "if":
                for cond, body in node[1]:
                    if truthy(self.eval_pipeline(cond, dot, scopes, node[3])):
                        out.append(self.render_nodes(body, dot, scopes + [{}]))
                        break
                else:
                    out.append(self.render_nodes(node[2], dot, scopes + [{}]))
            elif kind == "with":
                _, variables, pipeline, body, else_nodes, where = node
                val = self.eval_pipeline(pipeline, dot, scopes, where)
                if truthy(val):
                    out.append(self.render_nodes(body, val, scopes + [{}]))
                else:
                    out.append(self.render_nodes(else_nodes, dot, scopes + [{}]))
            elif kind == "range":
                _, variables, pipeline, body, else_nodes, where = node
                val = self.eval_pipeline(pipeline, dot, scopes, where)
                if isinstance(val, dict):
                    pairs = [(k, val[k]) for k in sorted(val)]
                elif isinstance(val, list):
                    pairs = list(enumerate(val))
                elif val is None:
                    pairs = []
                else:
                    raise TemplateError(f"{where}: range over {type(val).__name__}")
                if not pairs:
                    out.append(self.render_nodes(else_nodes, dot, scopes + [{}]))
                for k, v in pairs:
                    scope = {}
                    if len(variables) == 1:
                        scope[variables[0]] = v
                    elif len(variables) == 2:
                        scope[variables[0]] = k
                        scope[variables[1]] = v
                    out.append(self.render_nodes(body, v, scopes + [scope]))
            elif kind == "template":
                data = self.eval_pipeline(node[2], dot, scopes, node[3]) if node[2] else None
                out.append(self.include(node[1], data, node[3]))
            else:
                raise TemplateError(f"unknown node {kind}")
        return "".join(out)

    def include(self, name, data, where):
        if name in self.defines:
            nodes = self.defines[name]
        elif name in self.files:
            nodes = self.files[name]
        else:
            raise TemplateError(f"{where}: no template named {name!r}")
        return self.render_nodes(nodes, data, [{"$": data}])

    def lookup_var(self, name, scopes, where):
        for scope in reversed(scopes):
            if name in scope:
                return scope[name]
        raise TemplateError(f"{where}: undefined variable {name}")

    @staticmethod
    def fields(obj, path, where):
        # Strict, as `helm lint --strict` renders: a missing key is an error, not an empty value
        # (templates read optional keys with `get` or `hasKey`).
        for part in [p for p in path.split(".") if p]:
            if isinstance(obj, dict):
                if part not in obj:
                    raise TemplateError(f"{where}: map has no entry for key {part!r} ({path})")
                obj = obj[part]
            else:
                raise TemplateError(f"{where}: cannot read field {part} of {type(obj).__name__} ({path})")
        return obj

    def eval_arg(self, arg, dot, scopes, where):
        kind = arg[0]
        if kind == "lit":
            return arg[1]
        if kind == "field":
            return dot if arg[1] == "." else self.fields(dot, arg[1], where)
        if kind == "var":
            name, _, path = arg[1].partition(".")
            return self.fields(self.lookup_var(name, scopes, where), path, where)
        if kind == "pipeline":
            return self.eval_pipeline(arg, dot, scopes, where)
        if kind == "func":
            return self.call(arg[1], [], dot, scopes, where, None)
        raise TemplateError(f"{where}: bad argument {arg}")

    def call(self, name, args, dot, scopes, where, piped):
        values = [self.eval_arg(a, dot, scopes, where) for a in args]
        if piped is not None:
            values.append(piped[0])
        if name == "include":
            if len(values) != 2:
                raise TemplateError(f"{where}: include takes a name and a value")
            return self.include(values[0], values[1], where)
        if name == "and":
            for v in values:
                if not truthy(v):
                    return v
            return values[-1]
        if name == "or":
            for v in values:
                if truthy(v):
                    return v
            return values[-1]
        if name == "required":
            if not truthy(values[1]):
                raise TemplateError(f"{where}: {values[0]}")
            return values[1]
        if name == "fail":
            raise TemplateError(f"{where}: fail: {values[0]}")
        fn = self.funcs().get(name)
        if fn is None:
            raise TemplateError(f"{where}: function {name!r} is not supported by this renderer")
        try:
            return fn(*values)
        except TypeError as e:
            raise TemplateError(f"{where}: {name}: {e}") from e

    def eval_pipeline(self, pipeline, dot, scopes, where):
        _, decl, commands = pipeline
        piped = None
        for cmd in commands:
            if cmd[0][0] == "func":
                val = self.call(cmd[0][1], cmd[1:], dot, scopes, where, piped)
            else:
                val = self.eval_arg(cmd[0], dot, scopes, where)
                if callable(val):  # a method of the data, such as .Files.Get
                    val = val(*[self.eval_arg(a, dot, scopes, where) for a in cmd[1:]],
                              *(piped or ()))
                elif len(cmd) != 1 or piped is not None:
                    raise TemplateError(f"{where}: cannot apply arguments to a non-function")
            piped = (val,)
        if decl:
            var, op = decl
            if op == ":=":
                scopes[-1][var] = val
            else:
                for scope in reversed(scopes):
                    if var in scope:
                        scope[var] = val
                        break
                else:
                    raise TemplateError(f"{where}: assignment to undeclared {var}")
        return val


def render_string(text, data, name="inline"):
    """Renders one template text with data as dot and $ (used by the renderer's self-test)."""
    defines = {}
    nodes, _ = Parser(lex(text, name), name, defines).parse()
    return Renderer(defines, {name: nodes}).render_nodes(nodes, data, [{"$": data}])


def deep_merge(base, over):
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(base.get(k), dict):
            deep_merge(base[k], v)
        else:
            base[k] = copy.deepcopy(v)
    return base


def read_chart_file(chart_dir, name):
    """.Files.Get: a file of the chart by its path in the chart, "" when there is none."""
    path = os.path.join(chart_dir, name)
    if not os.path.isfile(path):
        return ""
    with open(path, encoding="utf-8") as f:
        return f.read()


def render_chart(chart_dir, value_files, namespace, release):
    with open(os.path.join(chart_dir, "Chart.yaml"), encoding="utf-8") as f:
        chart = yaml.safe_load(f)
    with open(os.path.join(chart_dir, "values.yaml"), encoding="utf-8") as f:
        values = yaml.safe_load(f) or {}
    for vf in value_files:
        with open(vf, encoding="utf-8") as f:
            deep_merge(values, yaml.safe_load(f) or {})
    tdir = os.path.join(chart_dir, "templates")
    base = f"{chart['name']}/templates"
    defines, files = {}, {}
    names = sorted(os.listdir(tdir))
    for fn in names:
        if not (fn.endswith(".yaml") or fn.endswith(".tpl") or fn.endswith(".yml")):
            continue
        with open(os.path.join(tdir, fn), encoding="utf-8") as f:
            text = f.read()
        nodes, _ = Parser(lex(text, fn), fn, defines).parse()
        files[f"{base}/{fn}"] = nodes
    renderer = Renderer(defines, files)
    out = []
    for fn in names:
        if fn.startswith("_") or not fn.endswith((".yaml", ".yml")):
            continue
        path = f"{base}/{fn}"
        data = {
            "Values": values,
            "Release": {"Name": release, "Namespace": namespace, "Service": "Helm",
                        "IsInstall": True, "IsUpgrade": False, "Revision": 1},
            "Chart": {"Name": chart["name"], "Version": chart["version"],
                      "AppVersion": chart.get("appVersion", ""), "Description": chart.get("description", "")},
            "Template": {"BasePath": base, "Name": path},
            "Files": {"Get": lambda name: read_chart_file(chart_dir, name)},
            "Capabilities": {"KubeVersion": {"Version": "v1.29.0", "Major": "1", "Minor": "29"}},
        }
        text = renderer.render_nodes(files[path], data, [{"$": data}])
        for doc in re.split(r"^---\s*$", text, flags=re.M):
            if doc.strip():
                out.append(f"---\n# Source: {path}\n{doc.strip(chr(10))}\n")
    return "".join(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("chart")
    ap.add_argument("-f", "--values", action="append", default=[])
    ap.add_argument("--namespace", default="default")
    ap.add_argument("--release", default="release-name")
    args = ap.parse_args()
    try:
        sys.stdout.write(render_chart(args.chart, args.values, args.namespace, args.release))
    except (TemplateError, yaml.YAMLError, OSError) as e:
        print(f"helm_render: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
