#!/usr/bin/env python3
"""Checks helm_render.py against outputs Go text/template and Sprig produce for the same input."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from helm_render import TemplateError, render_string  # noqa: E402

CASES = [
    # (template, data, expected output as Go/Helm renders it)
    ("a  {{- 1 -}}  b", {}, "a1b"),
    ("x\n  {{- /* comment */ -}}\n  y", {}, "xy"),
    ("{{ range $k, $v := .m }}{{ $k }}={{ $v }};{{ end }}", {"m": {"b": 2, "a": 1}}, "a=1;b=2;"),
    ("{{ range .l }}[{{ . }}]{{ else }}none{{ end }}", {"l": [1, 2]}, "[1][2]"),
    ("{{ range .l }}[{{ . }}]{{ else }}none{{ end }}", {"l": []}, "none"),
    ("{{ if .x }}X{{ else if .y }}Y{{ else }}Z{{ end }}", {"x": 0, "y": "s"}, "Y"),
    ("{{ if .x }}X{{ else if .y }}Y{{ else }}Z{{ end }}", {"x": "", "y": False}, "Z"),
    ("{{ with .e }}E{{ else }}N{{ end }}|{{ with .f }}{{ .g }}{{ end }}", {"e": {}, "f": {"g": 7}}, "N|7"),
    ('{{ define "t" }}k: v\nl: {{ .w }}{{ end }}a:{{ include "t" . | nindent 2 }}', {"w": "w"},
     "a:\n  k: v\n  l: w"),
    ("{{ toYaml .d }}", {"d": {"b": 1, "a": [1, 2]}}, "a:\n- 1\n- 2\nb: 1"),
    ("{{ $x := 1 }}{{ if true }}{{ $x = 2 }}{{ end }}{{ $x }}", {}, "2"),
    ('{{ printf "%s-%d" "a" 3 | quote }} {{ "" | default "d" }} {{ eq 1 1 }}', {}, '"a-3" d true'),
    ('{{ "abcdef-" | trunc 6 | trimSuffix "-" }} {{ contains "b" "abc" }}', {}, "abcdef true"),
    ('{{ keys .m | sortAlpha }} {{ len .m }} {{ get .m "a" }}{{ get .m "zz" }}', {"m": {"b": 1, "a": 2}},
     "[a b] 2 2"),
    ('{{ if and .a (or .b .c) (not .d) }}yes{{ end }}', {"a": 1, "b": 0, "c": "x", "d": None}, "yes"),
    ("{{ $.top }}{{ range .l }}{{ $.top }}{{ end }}", {"top": "T", "l": [1, 2]}, "TTT"),
]

ERRORS = [
    ("{{ .nope }}", {}),                 # missing key: strict, as helm lint --strict
    ("{{ if .a }}x", {"a": 1}),          # missing end
    ("{{ frobnicate 1 }}", {}),          # unknown function
    ("{{ $undefined }}", {}),            # undefined variable
]


def main():
    failures = 0
    for text, data, want in CASES:
        try:
            got = render_string(text, data)
        except TemplateError as e:
            got = f"<error: {e}>"
        if got != want:
            failures += 1
            print(f"FAIL: {text!r} rendered {got!r}, expected {want!r}")
    for text, data in ERRORS:
        try:
            got = render_string(text, data)
            failures += 1
            print(f"FAIL: {text!r} rendered {got!r}, expected an error")
        except TemplateError:
            pass
    total = len(CASES) + len(ERRORS)
    print(f"renderer self-test: {total - failures} of {total} cases agree with Go templates")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
