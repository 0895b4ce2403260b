// Every function: results and error messages.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <string>

#include "functions.h"
#include "helpers.h"

using crossover::tmpl::Value;
using tt::data;
using tt::error_of;
using tt::render;

BOOST_AUTO_TEST_SUITE(functions)

BOOST_AUTO_TEST_CASE(every_required_function_exists) {
    const auto names = crossover::tmpl::function_names();
    for (const char* f :
         {"eq",         "ne",      "lt",      "le",     "gt",     "ge",     "and",
          "or",         "not",     "default", "quote",  "squote", "toYaml", "toJson",
          "indent",     "nindent", "replace", "lower",  "upper",  "trim",   "trimSuffix",
          "trimPrefix", "add",     "sub",     "mul",    "div",    "printf", "required",
          "fail",       "len",     "index",   "include"}) {
        BOOST_CHECK_MESSAGE(std::find(names.begin(), names.end(), f) != names.end(), f);
    }
}

BOOST_AUTO_TEST_CASE(default_function) {
    BOOST_CHECK_EQUAL(render("{{ default \"d\" \"\" }}"), "d");
    BOOST_CHECK_EQUAL(render("{{ default \"d\" \"v\" }}"), "v");
    BOOST_CHECK_EQUAL(render("{{ default 5 0 }}"), "5");
    BOOST_CHECK_EQUAL(render("{{ default \"d\" false }}"), "d");
    BOOST_CHECK_EQUAL(render("{{ default \"d\" (list) }}"), "d");
    BOOST_CHECK_EQUAL(render("{{ \"\" | default \"d\" }}"), "d");
    BOOST_CHECK_EQUAL(render("{{ .a | default 3 }}", "a: 7"), "7");
    BOOST_CHECK_EQUAL(error_of("{{ default }}"),
                      "t.tmpl:1:4: wrong number of args for default: want 1 to 2 got 0");
}

BOOST_AUTO_TEST_CASE(quote_squote) {
    BOOST_CHECK_EQUAL(render("{{ quote \"a\\\"b\" }}"), "\"a\\\"b\"");
    BOOST_CHECK_EQUAL(render("{{ quote 5 }}"), "\"5\"");
    BOOST_CHECK_EQUAL(render("{{ quote \"a\" \"b\" }}"), "\"a\" \"b\"");
    BOOST_CHECK_EQUAL(render("{{ .s | quote }}", data("s: \"x\\ny\\t\\u0001\"")),
                      "\"x\\ny\\t\\x01\"");
    BOOST_CHECK_EQUAL(render("{{ squote \"a\" }}"), "'a'");
    BOOST_CHECK_EQUAL(render("{{ .n | squote }}", "n: 3"), "'3'");
}

BOOST_AUTO_TEST_CASE(to_yaml) {
    const Value d = data(R"(
m:
  name: web
  port: 8080
  ratio: 0.5
  on: true
  none: ~
  tricky: ["true", "123", "", " pad", "a: b", "#c", "-x", "- x", "y", "it's", "1.5"]
  nested: {b: [1, [2, 3], {c: d}], a: {}}
  empty: []
  text: "line1\nline2"
  text_nl: "line1\nline2\n"
)");
    BOOST_CHECK_EQUAL(render("{{ toYaml .m }}", d),
                      "empty: []\n"
                      "name: web\n"
                      "nested:\n"
                      "  a: {}\n"
                      "  b:\n"
                      "  - 1\n"
                      "  - - 2\n"
                      "    - 3\n"
                      "  - c: d\n"
                      "none: null\n"
                      "'on': true\n"
                      "port: 8080\n"
                      "ratio: 0.5\n"
                      "text: |-\n"
                      "  line1\n"
                      "  line2\n"
                      "text_nl: |\n"
                      "  line1\n"
                      "  line2\n"
                      "tricky:\n"
                      "- 'true'\n"
                      "- '123'\n"
                      "- ''\n"
                      "- ' pad'\n"
                      "- 'a: b'\n"
                      "- '#c'\n"
                      "- -x\n"
                      "- '- x'\n"
                      "- 'y'\n"
                      "- it's\n"
                      "- '1.5'");
    BOOST_CHECK_EQUAL(render("{{ toYaml .l }}", data("l: [{a: 1, b: 2}, x]")),
                      "- a: 1\n  b: 2\n- x");
    BOOST_CHECK_EQUAL(render("{{ toYaml 5 }}|{{ toYaml \"s\" }}|{{ toYaml nil }}"), "5|s|null");
    // The output reads back as the same data.
    const std::string yaml = render("{{ toYaml .m }}", d);
    const YAML::Node back = YAML::Load(yaml);
    BOOST_CHECK_EQUAL(back["tricky"][0].Scalar(), "true");
    BOOST_CHECK_EQUAL(back["tricky"][0].Tag(), "!");
    BOOST_CHECK_EQUAL(back["text"].Scalar(), "line1\nline2");
    BOOST_CHECK_EQUAL(back["nested"]["b"][1][1].as<int>(), 3);
    // Control characters are escaped and read back unchanged.
    const std::string ctl = render("{{ toYaml .c }}", data("c: \"\\a\\b\\f\\v\\x01\\x7f q\""));
    BOOST_CHECK_EQUAL(YAML::Load(ctl).Scalar(), std::string("\a\b\f\v\x01\x7f q"));
}

BOOST_AUTO_TEST_CASE(to_json) {
    BOOST_CHECK_EQUAL(
        render("{{ toJson . }}", data("{b: [1, 2.5, true, ~], a: \"<&>\\\"\", c: {}}")),
        "{\"a\":\"\\u003c\\u0026\\u003e\\\"\",\"b\":[1,2.5,true,null],\"c\":{}}");
    BOOST_CHECK_EQUAL(render("{{ toJson \"x\\ny\" }}"), "\"x\\ny\"");
    BOOST_CHECK_EQUAL(error_of("{{ toJson .f }}", "f: .nan"),
                      "t.tmpl:1:4: toJson: unsupported value NaN");
}

BOOST_AUTO_TEST_CASE(indent_nindent) {
    BOOST_CHECK_EQUAL(render("{{ indent 2 \"a\\nb\" }}"), "  a\n  b");
    BOOST_CHECK_EQUAL(render("{{ \"a\\nb\" | nindent 4 }}"), "\n    a\n    b");
    BOOST_CHECK_EQUAL(render("x:{{ toYaml .m | nindent 2 }}", data("m: {k: v}")), "x:\n  k: v");
    BOOST_CHECK_EQUAL(error_of("{{ indent -1 \"a\" }}"),
                      "t.tmpl:1:4: indent: negative indentation -1");
    BOOST_CHECK_EQUAL(error_of("{{ nindent \"2\" \"a\" }}"),
                      "t.tmpl:1:4: nindent: the indentation must be an integer, got string");
}

BOOST_AUTO_TEST_CASE(string_functions) {
    BOOST_CHECK_EQUAL(render("{{ replace \".\" \"_\" \"a.b.c\" }}"), "a_b_c");
    BOOST_CHECK_EQUAL(render("{{ \"podinfo.test\" | replace \".\" \"-\" }}"), "podinfo-test");
    BOOST_CHECK_EQUAL(render("{{ replace \"\" \"-\" \"ab\" }}"), "-a-b-");
    BOOST_CHECK_EQUAL(render("{{ lower \"AbC\" }} {{ upper \"AbC\" }}"), "abc ABC");
    BOOST_CHECK_EQUAL(render("[{{ trim \"  \\t x y \\n\" }}]"), "[x y]");
    BOOST_CHECK_EQUAL(render("{{ trimSuffix \".tmpl\" \"rds.yaml.tmpl\" }}"), "rds.yaml");
    BOOST_CHECK_EQUAL(render("{{ trimSuffix \"x\" \"abc\" }}"), "abc");
    BOOST_CHECK_EQUAL(render("{{ trimPrefix \"v\" \"v1alpha2\" }}"), "1alpha2");
    BOOST_CHECK_EQUAL(render("{{ trimPrefix \"x\" \"abc\" }}"), "abc");
    BOOST_CHECK_EQUAL(render("{{ contains \"ell\" \"hello\" }} {{ hasPrefix \"he\" \"hello\" }} "
                             "{{ hasSuffix \"lo\" \"hello\" }} {{ hasSuffix \"x\" \"hello\" }}"),
                      "true true true false");
    BOOST_CHECK_EQUAL(render("{{ join \",\" .l }}", data("l: [a, 1, true]")), "a,1,true");
    BOOST_CHECK_EQUAL(render("{{ toString 5 | printf \"%q\" }}"), "\"5\"");
    BOOST_CHECK_EQUAL(render("{{ print 1 2 \"a\" \"b\" 3 }}"), "1 2ab3");
    BOOST_CHECK_EQUAL(error_of("{{ upper .l }}", "l: [1]"),
                      "t.tmpl:1:4: upper: the argument must be a string, got list");
}

BOOST_AUTO_TEST_CASE(arithmetic) {
    BOOST_CHECK_EQUAL(
        render("{{ add 1 2 3 }} {{ sub 10 3 }} {{ mul 2 3 4 }} {{ div 7 2 }} {{ mod 7 3 }}"),
        "6 7 24 3 1");
    BOOST_CHECK_EQUAL(render("{{ div -7 2 }} {{ sub 1 5 }}"), "-3 -4");
    BOOST_CHECK_EQUAL(render("{{ add \"2\" 3 }} {{ add 1.9 1 }} {{ .w | add 5 }}", "w: 95"),
                      "5 2 100");
    BOOST_CHECK_EQUAL(render("{{ int \"42\" }} {{ float64 3 }} {{ int 2.7 }}"), "42 3 2");
    BOOST_CHECK_EQUAL(error_of("{{ div 1 0 }}"), "t.tmpl:1:4: div: division by zero");
    BOOST_CHECK_EQUAL(error_of("{{ mod 1 0 }}"), "t.tmpl:1:4: mod: division by zero");
    BOOST_CHECK_EQUAL(error_of("{{ add \"x\" 1 }}"),
                      "t.tmpl:1:4: add: cannot convert string \"x\" to a number");
    BOOST_CHECK_EQUAL(error_of("{{ add 9223372036854775807 1 }}"),
                      "t.tmpl:1:4: add: integer overflow");
    BOOST_CHECK_EQUAL(error_of("{{ mul 9223372036854775807 2 }}"),
                      "t.tmpl:1:4: mul: integer overflow");
    BOOST_CHECK_EQUAL(error_of("{{ sub 1 }}"),
                      "t.tmpl:1:4: wrong number of args for sub: want 2 got 1");
    BOOST_CHECK_EQUAL(error_of("{{ add (list) 1 }}"),
                      "t.tmpl:1:4: add: expected a number, got list");
}

BOOST_AUTO_TEST_CASE(printf_verbs) {
    BOOST_CHECK_EQUAL(
        render("{{ printf \"%s|%d|%v|%q|%f|%.2f|%t|%%\" \"s\" 42 .l \"q\" 1.5 3.14159 true }}",
               data("l: [a, 1]")),
        "s|42|[a 1]|\"q\"|1.500000|3.14|true|%");
    BOOST_CHECK_EQUAL(
        render(
            "{{ printf \"[%5d][%-5s][%05d][%x][%X][%o][%b][%+d]\" 42 \"ab\" -42 255 255 8 5 3 }}"),
        "[   42][ab   ][-0042][ff][FF][10][101][+3]");
    BOOST_CHECK_EQUAL(
        render("{{ printf \"%e|%g|%G|%.3g|%8.3f\" 1234.5 0.000012 1e21 3.14159 2.5 }}"),
        "1.234500e+03|1.2e-05|1E+21|3.14|   2.500");
    BOOST_CHECK_EQUAL(
        render("{{ printf \"%d\" 5.0 }} {{ printf \"%s\" 5 }} {{ printf \"%.2s\" \"abc\" }}"),
        "5 5 ab");
    BOOST_CHECK_EQUAL(render("{{ printf \"%x\" \"hi\" }}"), "6869");
    BOOST_CHECK_EQUAL(render("{{ printf \"%s.%s\" .svc .ns }}", "{svc: podinfo, ns: test}"),
                      "podinfo.test");
    BOOST_CHECK_EQUAL(error_of("{{ printf \"%s %s\" \"a\" }}"),
                      "t.tmpl:1:4: printf: missing argument for %s");
    BOOST_CHECK_EQUAL(error_of("{{ printf \"%s\" \"a\" \"b\" }}"),
                      "t.tmpl:1:4: printf: too many arguments: 1 not used by the format");
    BOOST_CHECK_EQUAL(error_of("{{ printf \"%d\" \"a\" }}"),
                      "t.tmpl:1:4: printf: %d needs an integer, got string \"a\"");
    BOOST_CHECK_EQUAL(error_of("{{ printf \"%f\" \"a\" }}"),
                      "t.tmpl:1:4: printf: %f needs a number, got string \"a\"");
    BOOST_CHECK_EQUAL(error_of("{{ printf \"%t\" 1 }}"),
                      "t.tmpl:1:4: printf: %t needs a bool, got int");
    BOOST_CHECK_EQUAL(error_of("{{ printf \"%z\" 1 }}"), "t.tmpl:1:4: printf: unsupported verb %z");
    BOOST_CHECK_EQUAL(error_of("{{ printf \"50%\" }}"),
                      "t.tmpl:1:4: printf: format ends with a lone %");
    BOOST_CHECK_EQUAL(error_of("{{ printf 5 }}"),
                      "t.tmpl:1:4: printf: the format must be a string, got int");
}

BOOST_AUTO_TEST_CASE(required_and_fail) {
    BOOST_CHECK_EQUAL(render("{{ required \"need x\" .x }}", "x: 1"), "1");
    BOOST_CHECK_EQUAL(error_of("\n  {{ required \"need x\" .x }}", "{}"), "t.tmpl:2:6: need x");
    BOOST_CHECK_EQUAL(error_of("{{ .x | required \"x is empty\" }}", "x: ''"),
                      "t.tmpl:1:9: x is empty");
    BOOST_CHECK_EQUAL(error_of("{{ required \"null\" .x }}", "x: ~"), "t.tmpl:1:4: null");
    BOOST_CHECK_EQUAL(render("{{ required \"zero is a value\" .x }}", "x: 0"), "0");
    BOOST_CHECK_EQUAL(error_of("{{ if .bad }}{{ fail \"bad setting\" }}{{ end }}", "bad: true"),
                      "t.tmpl:1:17: bad setting");
}

BOOST_AUTO_TEST_CASE(len_function) {
    BOOST_CHECK_EQUAL(
        render("{{ len .s }} {{ len .l }} {{ len .m }}", "{s: abcd, l: [1, 2], m: {a: 1}}"),
        "4 2 1");
    BOOST_CHECK_EQUAL(error_of("{{ len 5 }}"), "t.tmpl:1:4: len: len of int");
}

BOOST_AUTO_TEST_CASE(comparisons) {
    BOOST_CHECK_EQUAL(
        render("{{ eq 1 1 }} {{ eq 1 2 }} {{ eq \"a\" \"a\" }} {{ eq 1 1.0 }} {{ eq 2 1 2 3 }} "
               "{{ eq true true }} {{ eq nil nil }}"),
        "true false true true true true true");
    BOOST_CHECK_EQUAL(render("{{ ne 1 2 }} {{ ne \"a\" \"a\" }}"), "true false");
    BOOST_CHECK_EQUAL(render("{{ lt 1 2 }} {{ le 2 2 }} {{ gt 3 2 }} {{ ge 1 2 }} {{ lt 1.5 2 }} "
                             "{{ lt \"a\" \"b\" }}"),
                      "true true true false true true");
    BOOST_CHECK_EQUAL(error_of("{{ lt 1 \"a\" }}"),
                      "t.tmpl:1:4: lt: incompatible types for comparison: int and string");
    BOOST_CHECK_EQUAL(error_of("{{ eq \"a\" 1 }}"),
                      "t.tmpl:1:4: eq: incompatible types for comparison: string and int");
    BOOST_CHECK_EQUAL(error_of("{{ eq .l .l }}", "l: [1]"),
                      "t.tmpl:1:4: eq: incompatible types for comparison: list and list");
    BOOST_CHECK_EQUAL(error_of("{{ ge .m 1 }}", "m: {}"),
                      "t.tmpl:1:4: ge: incompatible types for comparison: map and int");
}

BOOST_AUTO_TEST_CASE(logic) {
    BOOST_CHECK_EQUAL(
        render("{{ and 1 \"x\" }}|{{ and 0 \"x\" }}|{{ or 0 \"\" }}|{{ or 0 \"y\" }}|{{ not 0 }}"),
        "x|0||y|true");
    // and/or stop at the first deciding argument.
    BOOST_CHECK_EQUAL(render("{{ and false (fail \"no\") }} {{ or true (fail \"no\") }}"),
                      "false true");
    BOOST_CHECK_EQUAL(render("{{ 0 | or \"piped\" }}"), "piped");
    BOOST_CHECK_EQUAL(error_of("{{ and }}"),
                      "t.tmpl:1:4: wrong number of args for and: want at least 1 got 0");
    BOOST_CHECK_EQUAL(error_of("{{ not 1 2 }}"),
                      "t.tmpl:1:4: wrong number of args for not: want 1 got 2");
}

BOOST_AUTO_TEST_CASE(collections) {
    const Value d = data("m: {b: 2, a: 1}\nl: [x, y]\n");
    BOOST_CHECK_EQUAL(render("{{ index .m \"b\" }} {{ index .l 1 }} {{ index . \"m\" \"a\" }}", d),
                      "2 y 1");
    BOOST_CHECK_EQUAL(error_of("{{ index .l 5 }}", d), "t.tmpl:1:4: index: index out of range: 5");
    BOOST_CHECK_EQUAL(error_of("{{ index .l \"a\" }}", d),
                      "t.tmpl:1:4: index: list index must be an integer, got string");
    BOOST_CHECK_EQUAL(render("{{ hasKey .m \"a\" }} {{ hasKey .m \"z\" }}", d), "true false");
    BOOST_CHECK_EQUAL(render("{{ keys .m }}", d), "[a b]");
    BOOST_CHECK_EQUAL(render("{{ list 1 \"a\" }} {{ dict \"k\" 1 \"j\" 2 }}", d),
                      "[1 a] map[j:2 k:1]");
    BOOST_CHECK_EQUAL(error_of("{{ dict \"k\" }}", d),
                      "t.tmpl:1:4: dict: expected key/value pairs, got an odd number of arguments");
    BOOST_CHECK_EQUAL(render("{{ ternary \"y\" \"n\" true }} {{ ternary \"y\" \"n\" 0 }}", d),
                      "y n");
    BOOST_CHECK_EQUAL(render("{{ empty .l }} {{ empty \"\" }} {{ coalesce 0 \"\" \"c\" }}", d),
                      "false true c");
}

BOOST_AUTO_TEST_CASE(sandbox_has_no_system_functions) {
    for (const char* f :
         {"env", "expandenv", "readFile", "exec", "getHostByName", "lookup", "files"}) {
        BOOST_CHECK_EQUAL(error_of(std::string("{{ ") + f + " \"x\" }}"),
                          std::string("t.tmpl:1:4: function \"") + f + "\" not defined");
    }
}

BOOST_AUTO_TEST_SUITE_END()
