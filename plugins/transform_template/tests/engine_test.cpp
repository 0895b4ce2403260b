// Lexer, parser and evaluator: every construct, and every error with its
// template name, line and column.
#include <boost/test/unit_test.hpp>

#include <string>

#include "crossover/status.h"
#include "helpers.h"
#include "lexer.h"

using crossover::tmpl::ExecLimits;
using crossover::tmpl::lex;
using crossover::tmpl::Tok;
using crossover::tmpl::Value;
using tt::data;
using tt::error_of;
using tt::render;

BOOST_AUTO_TEST_SUITE(lexer)

BOOST_AUTO_TEST_CASE(tokens_and_positions) {
    const auto toks = lex("a{{ .x.y | f 1 \"s\" }}b\n{{ $v }}");
    const Tok want[] = {Tok::Text,       Tok::Open,     Tok::Field,  Tok::Field, Tok::Pipe,
                        Tok::Identifier, Tok::Number,   Tok::String, Tok::Close, Tok::Text,
                        Tok::Open,       Tok::Variable, Tok::Close,  Tok::End};
    BOOST_REQUIRE_EQUAL(toks.size(), sizeof(want) / sizeof(want[0]));
    for (std::size_t i = 0; i < toks.size(); ++i) {
        BOOST_CHECK_MESSAGE(toks[i].type == want[i], "token " << i);
    }
    BOOST_CHECK_EQUAL(toks[0].value, "a");
    BOOST_CHECK_EQUAL(toks[2].value, "x");
    BOOST_CHECK_EQUAL(toks[2].pos.col, 5);
    BOOST_CHECK(toks[2].space_before);
    BOOST_CHECK_EQUAL(toks[3].value, "y");
    BOOST_CHECK(!toks[3].space_before);
    BOOST_CHECK_EQUAL(toks[5].value, "f");
    BOOST_CHECK_EQUAL(toks[7].value, "s");
    BOOST_CHECK_EQUAL(toks[9].value, "b\n");
    BOOST_CHECK_EQUAL(toks[11].value, "$v");
    BOOST_CHECK_EQUAL(toks[11].pos.line, 2);
    BOOST_CHECK_EQUAL(toks[11].pos.col, 4);
}

BOOST_AUTO_TEST_CASE(trim_markers) {
    BOOST_CHECK_EQUAL(render("a  \n {{- 1 -}} \n\t b"), "a1b");
    BOOST_CHECK_EQUAL(render("a {{- 1 }} b"), "a1 b");
    BOOST_CHECK_EQUAL(render("a {{ 1 -}} b"), "a 1b");
    // Without a space the dash belongs to a number.
    BOOST_CHECK_EQUAL(render("x {{-3}} y"), "x -3 y");
    BOOST_CHECK_EQUAL(render("x\n{{- \"t\" -}}\n\ny"), "xty");
}

BOOST_AUTO_TEST_CASE(comments) {
    BOOST_CHECK_EQUAL(render("a{{/* one */}}b"), "ab");
    BOOST_CHECK_EQUAL(render("a {{- /* two\nlines */ -}} b"), "ab");
    BOOST_CHECK_EQUAL(render("a {{/* keep */}} b"), "a  b");
}

BOOST_AUTO_TEST_CASE(string_literals) {
    BOOST_CHECK_EQUAL(render("{{ \"t\\tq\\\"\\\\\\x41\\u00e9\" }}"), "t\tq\"\\A\xc3\xa9");
    BOOST_CHECK_EQUAL(render("{{ `raw\\n` }}"), "raw\\n");
    BOOST_CHECK_EQUAL(render("{{ `two\nlines` }}"), "two\nlines");
}

BOOST_AUTO_TEST_CASE(number_literals) {
    BOOST_CHECK_EQUAL(render("{{ 0x1f }} {{ -3 }} {{ +4 }} {{ 1.5 }} {{ 1e3 }} {{ 017 }}"),
                      "31 -3 4 1.5 1000 15");
    BOOST_CHECK_EQUAL(render("{{ 1.0 }} {{ 1e6 }} {{ 0.00001 }} {{ 123456.5 }}"),
                      "1 1e+06 1e-05 123456.5");
}

BOOST_AUTO_TEST_CASE(lexer_errors) {
    BOOST_CHECK_EQUAL(error_of("ok\n  {{ .a"), "t.tmpl:2:3: unclosed action");
    BOOST_CHECK_EQUAL(error_of("{{ \"abc }}"), "t.tmpl:1:4: unterminated quoted string");
    BOOST_CHECK_EQUAL(error_of("{{ `abc }}"), "t.tmpl:1:4: unterminated raw quoted string");
    BOOST_CHECK_EQUAL(error_of("x{{/* never closed"), "t.tmpl:1:2: unclosed comment");
    BOOST_CHECK_EQUAL(error_of("{{/* c */ 1 }}"),
                      "t.tmpl:1:11: comment ends before closing delimiter");
    BOOST_CHECK_EQUAL(error_of("{{ # }}"), "t.tmpl:1:4: unexpected '#' in action");
    BOOST_CHECK_EQUAL(error_of("{{ 'a' }}"),
                      "t.tmpl:1:4: character constants are not supported; use a string");
    BOOST_CHECK_EQUAL(error_of("{{ \"\\q\" }}"), "t.tmpl:1:5: unknown escape sequence \\q");
    BOOST_CHECK_EQUAL(error_of("{{ ( .a }}"), "t.tmpl:1:9: unclosed left paren");
    BOOST_CHECK_EQUAL(error_of("{{ .a ) }}"), "t.tmpl:1:7: unexpected right paren");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(parser)

BOOST_AUTO_TEST_CASE(structure_errors) {
    BOOST_CHECK_EQUAL(error_of("a\n{{ end }}"), "t.tmpl:2:4: unexpected {{end}}");
    BOOST_CHECK_EQUAL(error_of("{{ else }}"), "t.tmpl:1:4: unexpected {{else}}");
    BOOST_CHECK_EQUAL(error_of("x\n {{ if .a }}x"), "t.tmpl:2:5: {{if}} has no matching {{end}}");
    BOOST_CHECK_EQUAL(error_of("{{ range .a }}"), "t.tmpl:1:4: {{range}} has no matching {{end}}");
    BOOST_CHECK_EQUAL(error_of("{{ with .a }}"), "t.tmpl:1:4: {{with}} has no matching {{end}}");
    BOOST_CHECK_EQUAL(error_of("{{ with .a }}{{ else }}{{ else }}{{ end }}"),
                      "t.tmpl:1:27: more than one {{else}} in {{with}}");
    BOOST_CHECK_EQUAL(error_of("{{ range .a }}{{ else }}{{ else }}{{ end }}"),
                      "t.tmpl:1:28: more than one {{else}} in {{range}}");
    BOOST_CHECK_EQUAL(error_of("{{ break }}"), "t.tmpl:1:4: {{break}} outside {{range}}");
    BOOST_CHECK_EQUAL(error_of("{{ continue }}"), "t.tmpl:1:4: {{continue}} outside {{range}}");
    BOOST_CHECK_EQUAL(error_of("{{ if 1 }}{{ define \"x\" }}{{ end }}{{ end }}"),
                      "t.tmpl:1:14: {{define}} is only allowed at the top level");
    BOOST_CHECK_EQUAL(error_of("{{ define \"x\" }}{{ end }}{{ define \"x\" }}{{ end }}"),
                      "t.tmpl:1:36: template \"x\" defined twice");
    BOOST_CHECK_EQUAL(error_of("{{ define \"x\" }}"),
                      "t.tmpl:1:4: {{define}} has no matching {{end}}");
}

BOOST_AUTO_TEST_CASE(command_errors) {
    BOOST_CHECK_EQUAL(error_of("{{ }}"), "t.tmpl:1:4: missing value in command");
    BOOST_CHECK_EQUAL(error_of("{{ .a | }}"), "t.tmpl:1:9: missing value in command");
    BOOST_CHECK_EQUAL(error_of("{{ nofunc 1 }}"), "t.tmpl:1:4: function \"nofunc\" not defined");
    BOOST_CHECK_EQUAL(error_of("{{ 12ab }}"), "t.tmpl:1:4: bad number syntax: 12ab");
    BOOST_CHECK_EQUAL(error_of("{{ if }}{{ end }}"), "t.tmpl:1:7: missing value in {{if}}");
    BOOST_CHECK_EQUAL(error_of("{{ .a := 1 }}"), "t.tmpl:1:7: unexpected ':=' in command");
    BOOST_CHECK_EQUAL(error_of("{{ $a, $b := 1 }}"),
                      "t.tmpl:1:6: too many declarations in command");
    BOOST_CHECK_EQUAL(error_of("{{ template .a }}"),
                      "t.tmpl:1:13: unexpected field .a in {{template}}, expected string");
    BOOST_CHECK_EQUAL(error_of("{{ \"a\".b }}"), "t.tmpl:1:7: unexpected field .b after string");
}

BOOST_AUTO_TEST_CASE(variable_errors) {
    BOOST_CHECK_EQUAL(error_of("{{ $x }}"), "t.tmpl:1:4: undefined variable \"$x\"");
    BOOST_CHECK_EQUAL(error_of("{{ $x = 1 }}"), "t.tmpl:1:4: undefined variable \"$x\"");
    BOOST_CHECK_EQUAL(error_of("{{ $ := 1 }}"), "t.tmpl:1:4: cannot assign to $");
    // A variable declared inside a control structure ends with it.
    BOOST_CHECK_EQUAL(error_of("{{ if 1 }}{{ $y := 2 }}{{ end }}{{ $y }}"),
                      "t.tmpl:1:36: undefined variable \"$y\"");
    // Templates defined with {{define}} only see their own variables.
    BOOST_CHECK_EQUAL(error_of("{{ $v := 1 }}{{ define \"d\" }}{{ $v }}{{ end }}"),
                      "t.tmpl:1:33: undefined variable \"$v\"");
}

BOOST_AUTO_TEST_CASE(nesting_limit) {
    std::string deep;
    for (int i = 0; i < 101; ++i) {
        deep += "{{ if 1 }}";
    }
    BOOST_CHECK_EQUAL(error_of(deep), "t.tmpl:1:1004: nesting deeper than 100 levels");
    std::string parens = "{{ ";
    for (int i = 0; i < 101; ++i) {
        parens += "(";
    }
    parens += "1";
    for (int i = 0; i < 101; ++i) {
        parens += ")";
    }
    parens += " }}";
    BOOST_CHECK_EQUAL(error_of(parens), "t.tmpl:1:104: nesting deeper than 100 levels");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(evaluator)

BOOST_AUTO_TEST_CASE(fields_and_dot) {
    const Value d = data("a: {b: {c: deep}}\nn: 7\nl: [x, y]\n");
    BOOST_CHECK_EQUAL(render("{{ .a.b.c }}-{{ .n }}", d), "deep-7");
    BOOST_CHECK_EQUAL(render("{{ . }}", data("[1, 2]")), "[1 2]");
    BOOST_CHECK_EQUAL(render("{{ .a }}", d), "map[b:map[c:deep]]");
    BOOST_CHECK_EQUAL(render("{{ $.n }}{{ $ | len }}", d), "73");
    BOOST_CHECK_EQUAL(render("{{ range .l }}{{ . }}{{ $.n }}{{ end }}", d), "x7y7");
    BOOST_CHECK_EQUAL(render("{{ (index .a \"b\").c }}", d), "deep");
    BOOST_CHECK_EQUAL(render("{{ $x := .a }}{{ $x.b.c }}", d), "deep");
    BOOST_CHECK_EQUAL(render("{{ .q }}", data("q: ~")), "");
}

BOOST_AUTO_TEST_CASE(yaml_scalars_resolve_like_helm) {
    const Value d = data("i: 10\nf: 2.5\nb: yes\ns: \"10\"\nq: 'true'\nn: null\nt: ~\no: 0o17\n");
    BOOST_CHECK_EQUAL(render("{{ add .i 1 }} {{ .f }} {{ .b }} {{ .s }} {{ .q }} {{ .o }}", d),
                      "11 2.5 true 10 true 15");
    BOOST_CHECK_EQUAL(render("{{ if eq .s \"10\" }}str{{ end }}", d), "str");
    BOOST_CHECK_EQUAL(render("{{ if eq .i 10 }}int{{ end }}", d), "int");
    BOOST_CHECK_EQUAL(render("{{ if .n }}x{{ else }}null{{ end }}", d), "null");
}

BOOST_AUTO_TEST_CASE(field_errors) {
    BOOST_CHECK_EQUAL(error_of("{{ .a.b }}", "a: str"),
                      "t.tmpl:1:6: can't evaluate field b in type string");
    BOOST_CHECK_EQUAL(error_of("{{ .a.x.y }}", "a: {}"), "t.tmpl:1:6: map has no key \"x\"");
    BOOST_CHECK_EQUAL(error_of("line one\n  {{ .nope }}", "{}"),
                      "t.tmpl:2:6: map has no key \"nope\"");
    BOOST_CHECK_EQUAL(error_of("{{ .a.b }}", "a: ~"),
                      "t.tmpl:1:6: can't read key \"b\" of a null value");
    BOOST_CHECK_EQUAL(error_of("{{ .a.b 1 }}", "a: {b: 1}"),
                      "t.tmpl:1:4: can't give argument to non-function .a.b");
    BOOST_CHECK_EQUAL(error_of("{{ \"x\" | .a }}", "a: 1"),
                      "t.tmpl:1:10: can't give argument to non-function .a");
    BOOST_CHECK_EQUAL(error_of("{{ nil }}"), "t.tmpl:1:4: nil is not a command");
}

BOOST_AUTO_TEST_CASE(truthiness) {
    const char* const falsy[] = {"0", "0.0", "''", "[]", "{}", "~", "false"};
    const char* const truthy[] = {"1", "0.5", "x", "[0]", "{a: 0}", "true", "'0'"};
    for (const char* v : falsy) {
        BOOST_CHECK_MESSAGE(
            render("{{ if .v }}T{{ else }}F{{ end }}", data(std::string("v: ") + v)) == "F", v);
    }
    for (const char* v : truthy) {
        BOOST_CHECK_MESSAGE(
            render("{{ if .v }}T{{ else }}F{{ end }}", data(std::string("v: ") + v)) == "T", v);
    }
}

BOOST_AUTO_TEST_CASE(if_else_chains) {
    const std::string t =
        "{{ if eq .n 1 }}one{{ else if eq .n 2 }}two{{ else if eq .n 3 }}three{{ else }}many{{ end "
        "}}";
    BOOST_CHECK_EQUAL(render(t, "n: 1"), "one");
    BOOST_CHECK_EQUAL(render(t, "n: 2"), "two");
    BOOST_CHECK_EQUAL(render(t, "n: 3"), "three");
    BOOST_CHECK_EQUAL(render(t, "n: 9"), "many");
    BOOST_CHECK_EQUAL(render("{{ if $x := .a }}{{ $x }}{{ else }}none {{ $x }}{{ end }}", "a: 0"),
                      "none 0");
    BOOST_CHECK_EQUAL(render("{{ if .a }}{{ else with .b }}b={{ . }}{{ end }}", "{a: 0, b: 2}"),
                      "b=2");
}

BOOST_AUTO_TEST_CASE(with_blocks) {
    BOOST_CHECK_EQUAL(render("{{ with .a }}{{ .b }}{{ end }}", "a: {b: 5}"), "5");
    BOOST_CHECK_EQUAL(render("{{ with .a }}{{ .b }}{{ else }}none{{ end }}", "a: {}"), "none");
    BOOST_CHECK_EQUAL(render("{{ with .missing }}x{{ else }}guarded{{ end }}", "{}"), "guarded");
    BOOST_CHECK_EQUAL(render("{{ with $v := .a.b }}{{ $v }}{{ . }}{{ end }}", "a: {b: 3}"), "33");
}

BOOST_AUTO_TEST_CASE(range_lists_maps_ints) {
    const Value d = data("l: [a, b, c]\nm: {zeta: 1, alpha: 2, mid: 3}\ne: []\n");
    BOOST_CHECK_EQUAL(render("{{ range .l }}{{ . }}{{ end }}", d), "abc");
    BOOST_CHECK_EQUAL(render("{{ range $v := .l }}{{ $v }}{{ end }}", d), "abc");
    BOOST_CHECK_EQUAL(render("{{ range $i, $v := .l }}{{ $i }}{{ $v }} {{ end }}", d), "0a 1b 2c ");
    // Maps iterate in sorted key order.
    BOOST_CHECK_EQUAL(render("{{ range $k, $v := .m }}{{ $k }}={{ $v }};{{ end }}", d),
                      "alpha=2;mid=3;zeta=1;");
    BOOST_CHECK_EQUAL(render("{{ range .m }}{{ . }}{{ end }}", d), "231");
    BOOST_CHECK_EQUAL(render("{{ range .e }}x{{ else }}empty{{ end }}", d), "empty");
    BOOST_CHECK_EQUAL(render("{{ range .n }}x{{ else }}null{{ end }}", data("n: ~")), "null");
    BOOST_CHECK_EQUAL(render("{{ range 3 }}{{ . }}{{ end }}"), "012");
    BOOST_CHECK_EQUAL(
        render("{{ range .l }}{{ if eq . \"b\" }}{{ continue }}{{ end }}{{ . }}{{ end }}", d),
        "ac");
    BOOST_CHECK_EQUAL(
        render("{{ range .l }}{{ if eq . \"b\" }}{{ break }}{{ end }}{{ . }}{{ end }}", d), "a");
    // Assignment inside a loop updates the outer variable.
    BOOST_CHECK_EQUAL(
        render("{{ $sum := 0 }}{{ range .n }}{{ $sum = add $sum . }}{{ end }}{{ $sum }}",
               data("n: [1, 2, 3, 4]")),
        "10");
}

BOOST_AUTO_TEST_CASE(range_errors) {
    BOOST_CHECK_EQUAL(error_of("{{ range .s }}{{ end }}", "s: abc"),
                      "t.tmpl:1:10: range can't iterate over a string (abc)");
    BOOST_CHECK_EQUAL(error_of("{{ range $i, $v := 3 }}{{ end }}"),
                      "t.tmpl:1:14: can't use two variables to range over an integer");
    BOOST_CHECK_EQUAL(error_of("\n{{ range .items }}{{ end }}", "{}"),
                      "t.tmpl:2:10: map has no key \"items\"");
}

BOOST_AUTO_TEST_CASE(pipelines_and_parentheses) {
    BOOST_CHECK_EQUAL(render("{{ .a | printf \"%s-%s\" \"x\" }}", "a: y"), "x-y");
    BOOST_CHECK_EQUAL(render("{{ .a | upper | printf \"[%s]\" }}", "a: y"), "[Y]");
    BOOST_CHECK_EQUAL(render("{{ add (mul 2 3) 1 }}"), "7");
    BOOST_CHECK_EQUAL(render("{{ (add 1 2) | mul 10 }}"), "30");
    BOOST_CHECK_EQUAL(render("{{ ($x := 4) }}{{ $x }}"), "44");
    BOOST_CHECK_EQUAL(render("{{ \"a\" | eq \"a\" }}"), "true");
    BOOST_CHECK_EQUAL(render("{{ default \"d\" nil }}"), "d");
    BOOST_CHECK_EQUAL(render("{{ true }} {{ false }}"), "true false");
}

BOOST_AUTO_TEST_CASE(variables) {
    BOOST_CHECK_EQUAL(render("{{ $a := 1 }}{{ $b := \"x\" }}{{ $a }}{{ $b }}{{ $a = 2 }}{{ $a }}"),
                      "1x2");
    // Declarations print nothing.
    BOOST_CHECK_EQUAL(render("[{{ $a := 1 }}]"), "[]");
    // An inner declaration shadows the outer one until its scope ends.
    BOOST_CHECK_EQUAL(render("{{ $a := 1 }}{{ if 1 }}{{ $a := 2 }}{{ $a }}{{ end }}{{ $a }}"),
                      "21");
}

BOOST_AUTO_TEST_CASE(define_template_include_block) {
    BOOST_CHECK_EQUAL(render("{{ define \"t\" }}[{{ . }}]{{ end }}{{ template \"t\" 5 }}"
                             "{{ include \"t\" \"six\" | upper }}{{ template \"t\" }}"),
                      "[5][SIX][]");
    BOOST_CHECK_EQUAL(render("{{ define \"c\" }}{{ $.n }}{{ end }}{{ template \"c\" . }}", "n: 4"),
                      "4");
    BOOST_CHECK_EQUAL(render("<{{ block \"b\" .n }}n={{ . }}{{ end }}>", "n: 1"), "<n=1>");
    BOOST_CHECK_EQUAL(error_of("{{ template \"nope\" }}"), "t.tmpl:1:4: no such template \"nope\"");
    BOOST_CHECK_EQUAL(error_of("{{ include \"nope\" . }}"),
                      "t.tmpl:1:4: no such template \"nope\"");
    BOOST_CHECK_EQUAL(
        error_of("{{ define \"r\" }}{{ template \"r\" . }}{{ end }}{{ template \"r\" 1 }}"),
        "t.tmpl:1:20: template calls nested deeper than 64 levels (runaway recursion?)");
    BOOST_CHECK_EQUAL(
        error_of("{{ define \"r\" }}{{ include \"r\" . }}{{ end }}{{ include \"r\" 1 }}"),
        "t.tmpl:1:20: template calls nested deeper than 64 levels (runaway recursion?)");
}

BOOST_AUTO_TEST_CASE(limits) {
    ExecLimits small;
    small.max_steps = 1000;
    BOOST_CHECK_EQUAL(
        error_of("{{ range 1000000 }}{{ end }}", Value(), small),
        "t.tmpl:1:4: template execution exceeded the limit of 1000 steps (runaway loop?)");
    // Exponential fan-out through includes is caught by the step limit.
    std::string fan =
        "{{ define \"f\" }}{{ if lt . 40 }}{{ include \"f\" (add . 1) }}"
        "{{ include \"f\" (add . 1) }}{{ end }}{{ end }}{{ include \"f\" 0 }}";
    BOOST_CHECK_NE(error_of(fan, Value(), small).find("exceeded the limit of 1000 steps"),
                   std::string::npos);
    ExecLimits tiny;
    tiny.max_output = 500;
    BOOST_CHECK_EQUAL(error_of("{{ range 100 }}xxxxxxxxxx{{ end }}", Value(), tiny),
                      "t.tmpl:1:16: output exceeds the limit of 500 bytes");
    BOOST_CHECK_EQUAL(error_of("{{ indent 1000 \"x\" }}", Value(), tiny),
                      "t.tmpl:1:4: indent: indentation 1000 is larger than the output limit");
    BOOST_CHECK_EQUAL(error_of("{{ $s := \"xxxxxxxxxxxxxxxxxxxx\" }}{{ range 5 }}"
                               "{{ $s = replace \"x\" \"xx\" $s }}{{ end }}",
                               Value(), tiny),
                      "t.tmpl:1:56: replace: result longer than 500 bytes");
    BOOST_CHECK_EQUAL(render("{{ range 10 }}x{{ end }}", Value(), tiny), "xxxxxxxxxx");
    // Values built by a template cannot nest without bound (printing them recurses).
    BOOST_CHECK_EQUAL(error_of("{{ $x := list }}{{ range 600 }}{{ $x = list $x }}{{ end }}"),
                      "t.tmpl:1:40: list: values nested deeper than 512 levels");
    BOOST_CHECK_EQUAL(error_of("{{ $x := dict }}{{ range 600 }}{{ $x = dict \"k\" $x }}{{ end }}"),
                      "t.tmpl:1:40: dict: values nested deeper than 512 levels");
    BOOST_CHECK_EQUAL(
        render("{{ $x := list }}{{ range 500 }}{{ $x = list $x }}{{ end }}{{ len $x }}"), "1");
    // Nor grow exponentially by holding the same value twice.
    BOOST_CHECK_EQUAL(
        error_of("{{ $x := list 1 }}{{ range 100 }}{{ $x = list $x $x }}{{ end }}{{ toYaml $x }}"),
        "t.tmpl:1:42: list: more than 1000000 values in one list or map");
    // And neither can data.
    const YAML::Node laughs = YAML::Load(
        "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
        "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
        "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
        "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
        "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
        "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
        "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n");
    BOOST_CHECK_EXCEPTION(
        crossover::tmpl::from_yaml(laughs, "values.yaml"), crossover::Error,
        [](const crossover::Error& e) {
            return std::string(e.what()).rfind("values.yaml: line ", 0) == 0 &&
                   std::string(e.what()).find(": data holds more than 1000000 values") !=
                       std::string::npos;
        });
    YAML::Node deep(YAML::NodeType::Sequence);
    for (int i = 0; i < 600; ++i) {
        YAML::Node outer(YAML::NodeType::Sequence);
        outer.push_back(deep);
        deep = outer;
    }
    BOOST_CHECK_EXCEPTION(
        crossover::tmpl::from_yaml(deep), crossover::Error, [](const crossover::Error& e) {
            return std::string(e.what()) == "value: data nested deeper than 512 levels";
        });
    BOOST_CHECK_EXCEPTION(data("a: 1\n[x]: 2\n"), crossover::Error, [](const crossover::Error& e) {
        return std::string(e.what()) == "value: line 2: map keys must be scalars";
    });
}

BOOST_AUTO_TEST_CASE(missing_keys_are_errors_unless_guarded) {
    const Value d = data("present: yes\n");
    // Guards.
    BOOST_CHECK_EQUAL(render("{{ .nope | default \"d\" }}", d), "d");
    BOOST_CHECK_EQUAL(render("{{ default \"d\" .nope.deeper }}", d), "d");
    BOOST_CHECK_EQUAL(render("{{ if .nope }}x{{ else }}guarded{{ end }}", d), "guarded");
    BOOST_CHECK_EQUAL(render("{{ if .nope.deeper }}x{{ end }}ok", d), "ok");
    BOOST_CHECK_EQUAL(render("{{ with .nope }}x{{ end }}ok", d), "ok");
    BOOST_CHECK_EQUAL(render("{{ if and .present .nope }}x{{ else }}n{{ end }}", d), "n");
    BOOST_CHECK_EQUAL(render("{{ or .nope \"alt\" }}", d), "alt");
    BOOST_CHECK_EQUAL(render("{{ not .nope }}", d), "true");
    BOOST_CHECK_EQUAL(render("{{ empty .nope }}", d), "true");
    BOOST_CHECK_EQUAL(render("{{ coalesce .nope .present }}", d), "true");
    BOOST_CHECK_EQUAL(render("{{ index . \"nope\" | default \"i\" }}", d), "i");
    // Unguarded uses report the lookup's position.
    BOOST_CHECK_EQUAL(error_of("{{ .nope }}", d), "t.tmpl:1:4: map has no key \"nope\"");
    BOOST_CHECK_EQUAL(error_of("{{ quote .nope }}", d), "t.tmpl:1:10: map has no key \"nope\"");
    BOOST_CHECK_EQUAL(error_of("{{ eq .nope 1 }}", d), "t.tmpl:1:7: map has no key \"nope\"");
    BOOST_CHECK_EQUAL(error_of("{{ $v := .nope }}\n{{ $v }}", d),
                      "t.tmpl:1:10: map has no key \"nope\"");
    BOOST_CHECK_EQUAL(error_of("{{ or .nope .nope2 }}", d),
                      "t.tmpl:1:13: map has no key \"nope2\"");
    BOOST_CHECK_EQUAL(error_of("{{ index . \"nope\" }}", d), "t.tmpl:1:4: map has no key \"nope\"");
    BOOST_CHECK_EQUAL(error_of("{{ .nope | upper }}", d), "t.tmpl:1:4: map has no key \"nope\"");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(robustness)

// Every prefix of a realistic template, and the template with each byte
// replaced by a delimiter character, either renders or fails with a
// TemplateError whose position lies inside the text.
BOOST_AUTO_TEST_CASE(truncated_and_mutated_templates_fail_cleanly) {
    const std::string text =
        "{{- $s := index .TrafficSplits \"podinfo\" | default (dict) -}}\n"
        "{{/* comment */}}name: {{ .Values.name | default \"x\" | quote }}\n"
        "{{- range $i, $b := $s.backends }}\n"
        "- {{ $i }}: {{ printf \"%s=%d\" $b.service $b.weight }}{{ else }}none{{ end }}\n"
        "{{ with .Values.m }}{{ toYaml . | nindent 2 }}{{ end }}{{ `raw` }}\n";
    const Value d = data(
        "TrafficSplits: {podinfo: {backends: [{service: a, weight: 1}]}}\n"
        "Values: {name: n, m: {k: v}}\n");
    const auto check = [&](const std::string& t) {
        int lines = 1;
        for (char c : t) {
            lines += c == '\n' ? 1 : 0;
        }
        try {
            render(t, d);
        } catch (const crossover::tmpl::TemplateError& e) {
            BOOST_CHECK_MESSAGE(e.pos().line >= 1 && e.pos().line <= lines && e.pos().col >= 1,
                                e.format("t") << " for: " << t);
        }
    };
    BOOST_CHECK_EQUAL(render(text, d), "name: \"n\"\n- 0: a=1\n\n  k: vraw\n");
    for (std::size_t n = 0; n <= text.size(); ++n) {
        check(text.substr(0, n));
    }
    for (std::size_t i = 0; i < text.size(); ++i) {
        for (const char c : {'{', '}', '"', '`', '(', ')', '|', '$', '.', '-', ' ', '/', '*'}) {
            std::string t = text;
            t[i] = c;
            check(t);
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(helm_style)

// The idioms of a Helm chart: helpers in define, include | nindent, with
// blocks, toYaml of a values subtree, quoted defaults.
BOOST_AUTO_TEST_CASE(chart_idioms) {
    const std::string t = R"({{- define "app.labels" -}}
app: {{ .name }}
tier: {{ .tier | default "web" }}
{{- end -}}
cluster:
  name: {{ .Values.name | quote }}
  labels:
    {{- include "app.labels" .Values | nindent 4 }}
  {{- with .Values.circuitBreakers }}
  circuit_breakers:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- if .Values.tls }}
  tls: true
  {{- end }}
  hosts:
  {{- range $i, $h := .Values.hosts }}
  - {{ $h }}:{{ $.Values.port | default 80 }}
  {{- end }}
)";
    const Value d = data(R"(
Values:
  name: podinfo
  hosts: [a.local, b.local]
  circuitBreakers:
    thresholds:
    - max_connections: 100
      priority: DEFAULT
)");
    BOOST_CHECK_EQUAL(render(t, d),
                      "cluster:\n"
                      "  name: \"podinfo\"\n"
                      "  labels:\n"
                      "    app: podinfo\n"
                      "    tier: web\n"
                      "  circuit_breakers:\n"
                      "    thresholds:\n"
                      "    - max_connections: 100\n"
                      "      priority: DEFAULT\n"
                      "  hosts:\n"
                      "  - a.local:80\n"
                      "  - b.local:80\n");
}

BOOST_AUTO_TEST_SUITE_END()
