#include "functions.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "printf.h"

namespace crossover::tmpl {
namespace {

using Args = std::vector<Value>;

TemplateError fail(const CallContext& ctx, const std::string& why) {
    return TemplateError(ctx.pos, ctx.name + ": " + why);
}

Value checked(const CallContext& ctx, std::string s) {
    if (s.size() > ctx.max_string) {
        throw fail(ctx, "result longer than " + std::to_string(ctx.max_string) + " bytes");
    }
    return Value::string(std::move(s));
}

// A string argument; numbers and bools are accepted in their printed form.
std::string text(const CallContext& ctx, const Value& v, const char* what) {
    switch (v.type()) {
        case Value::Type::String: return v.as_string();
        case Value::Type::Int:
        case Value::Type::Float:
        case Value::Type::Bool: return display(v);
        case Value::Type::Null: return "";
        default: throw fail(ctx, std::string(what) + " must be a string, got " + type_name(v));
    }
}

std::int64_t to_int(const CallContext& ctx, const Value& v) {
    switch (v.type()) {
        case Value::Type::Int: return v.as_int();
        case Value::Type::Float: {
            const double f = v.as_float();
            if (!std::isfinite(f) || std::fabs(f) >= 9.2e18) {
                throw fail(ctx, "number " + format_float(f) + " does not fit an integer");
            }
            return static_cast<std::int64_t>(f);
        }
        case Value::Type::Bool: return v.as_bool() ? 1 : 0;
        case Value::Type::Null: return 0;
        case Value::Type::String: {
            const Value r = resolve_plain_scalar(v.as_string());
            if (r.type() == Value::Type::Int || r.type() == Value::Type::Float) {
                return to_int(ctx, r);
            }
            throw fail(ctx, "cannot convert string " + go_quote(v.as_string()) + " to a number");
        }
        default: throw fail(ctx, std::string("expected a number, got ") + type_name(v));
    }
}

std::int64_t count_arg(const CallContext& ctx, const Value& v, const char* what) {
    if (v.type() != Value::Type::Int) {
        throw fail(ctx, std::string(what) + " must be an integer, got " + type_name(v));
    }
    return v.as_int();
}

// ---- logic and comparison ----------------------------------------------

Value fn_not(const CallContext&, Args& a) {
    return Value::boolean(!truthy(a[0]));
}

bool equal(const CallContext& ctx, const Value& x, const Value& y) {
    bool comparable = true;
    const bool eq = values_equal(x, y, comparable);
    if (!comparable) {
        throw fail(ctx, std::string("incompatible types for comparison: ") + type_name(x) +
                            " and " + type_name(y));
    }
    return eq;
}

Value fn_eq(const CallContext& ctx, Args& a) {
    for (std::size_t i = 1; i < a.size(); ++i) {
        if (equal(ctx, a[0], a[i])) {
            return Value::boolean(true);
        }
    }
    return Value::boolean(false);
}

Value fn_ne(const CallContext& ctx, Args& a) {
    return Value::boolean(!equal(ctx, a[0], a[1]));
}

// -1, 0, 1
int compare(const CallContext& ctx, const Value& x, const Value& y) {
    if (x.type() == Value::Type::Int && y.type() == Value::Type::Int) {
        return x.as_int() < y.as_int() ? -1 : (x.as_int() > y.as_int() ? 1 : 0);
    }
    if (x.is_number() && y.is_number()) {
        const double a = x.as_number();
        const double b = y.as_number();
        return a < b ? -1 : (a > b ? 1 : 0);
    }
    if (x.type() == Value::Type::String && y.type() == Value::Type::String) {
        const int c = x.as_string().compare(y.as_string());
        return c < 0 ? -1 : (c > 0 ? 1 : 0);
    }
    throw fail(ctx, std::string("incompatible types for comparison: ") + type_name(x) + " and " +
                        type_name(y));
}

Value fn_lt(const CallContext& ctx, Args& a) {
    return Value::boolean(compare(ctx, a[0], a[1]) < 0);
}
Value fn_le(const CallContext& ctx, Args& a) {
    return Value::boolean(compare(ctx, a[0], a[1]) <= 0);
}
Value fn_gt(const CallContext& ctx, Args& a) {
    return Value::boolean(compare(ctx, a[0], a[1]) > 0);
}
Value fn_ge(const CallContext& ctx, Args& a) {
    return Value::boolean(compare(ctx, a[0], a[1]) >= 0);
}

// ---- defaults and checks -------------------------------------------------

// default DEFAULT GIVEN: GIVEN unless it is empty.
Value fn_default(const CallContext&, Args& a) {
    if (a.size() < 2 || !truthy(a[1])) {
        return a[0];
    }
    return a[1];
}

Value fn_empty(const CallContext&, Args& a) {
    return Value::boolean(!truthy(a[0]));
}

Value fn_coalesce(const CallContext&, Args& a) {
    for (const auto& v : a) {
        if (truthy(v)) {
            return v;
        }
    }
    return Value();
}

Value fn_ternary(const CallContext&, Args& a) {
    return truthy(a[2]) ? a[0] : a[1];
}

Value fn_required(const CallContext& ctx, Args& a) {
    a[0].require_present();
    const std::string message = text(ctx, a[0], "the message");
    const Value& v = a[1];
    if (v.is_missing() || v.is_null() ||
        (v.type() == Value::Type::String && v.as_string().empty())) {
        throw TemplateError(ctx.pos, message);
    }
    return v;
}

Value fn_fail(const CallContext& ctx, Args& a) {
    throw TemplateError(ctx.pos, text(ctx, a[0], "the message"));
}

// ---- strings -------------------------------------------------------------

Value fn_quote(const CallContext& ctx, Args& a) {
    std::string out;
    bool first = true;
    for (const auto& v : a) {
        if (v.is_null()) {
            continue;
        }
        if (!first) {
            out += ' ';
        }
        first = false;
        out += go_quote(display(v));
    }
    return checked(ctx, std::move(out));
}

Value fn_squote(const CallContext& ctx, Args& a) {
    std::string out;
    bool first = true;
    for (const auto& v : a) {
        if (v.is_null()) {
            continue;
        }
        if (!first) {
            out += ' ';
        }
        first = false;
        out += "'" + display(v) + "'";
    }
    return checked(ctx, std::move(out));
}

Value fn_lower(const CallContext& ctx, Args& a) {
    std::string s = text(ctx, a[0], "the argument");
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return Value::string(std::move(s));
}

Value fn_upper(const CallContext& ctx, Args& a) {
    std::string s = text(ctx, a[0], "the argument");
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    return Value::string(std::move(s));
}

bool blank(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

Value fn_trim(const CallContext& ctx, Args& a) {
    const std::string s = text(ctx, a[0], "the argument");
    std::size_t b = 0;
    std::size_t e = s.size();
    while (b < e && blank(s[b])) {
        ++b;
    }
    while (e > b && blank(s[e - 1])) {
        --e;
    }
    return Value::string(s.substr(b, e - b));
}

Value fn_trim_suffix(const CallContext& ctx, Args& a) {
    const std::string suffix = text(ctx, a[0], "the suffix");
    std::string s = text(ctx, a[1], "the string");
    if (s.size() >= suffix.size() &&
        s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0) {
        s.resize(s.size() - suffix.size());
    }
    return Value::string(std::move(s));
}

Value fn_trim_prefix(const CallContext& ctx, Args& a) {
    const std::string prefix = text(ctx, a[0], "the prefix");
    std::string s = text(ctx, a[1], "the string");
    if (s.compare(0, prefix.size(), prefix) == 0) {
        s.erase(0, prefix.size());
    }
    return Value::string(std::move(s));
}

Value fn_replace(const CallContext& ctx, Args& a) {
    const std::string from = text(ctx, a[0], "the old text");
    const std::string to = text(ctx, a[1], "the new text");
    const std::string s = text(ctx, a[2], "the string");
    std::string out;
    if (from.empty()) {
        // Go: an empty old string matches before every byte and at the end.
        for (char c : s) {
            out += to;
            out += c;
            if (out.size() > ctx.max_string) {
                break;
            }
        }
        out += to;
        return checked(ctx, std::move(out));
    }
    std::size_t start = 0;
    for (;;) {
        const std::size_t hit = s.find(from, start);
        if (hit == std::string::npos) {
            break;
        }
        out.append(s, start, hit - start);
        out += to;
        if (out.size() > ctx.max_string) {
            return checked(ctx, std::move(out));
        }
        start = hit + from.size();
    }
    out.append(s, start);
    return checked(ctx, std::move(out));
}

std::string indent_text(const CallContext& ctx, std::int64_t n, const std::string& s) {
    if (n < 0) {
        throw fail(ctx, "negative indentation " + std::to_string(n));
    }
    if (static_cast<std::uint64_t>(n) > ctx.max_string) {
        throw fail(ctx, "indentation " + std::to_string(n) + " is larger than the output limit");
    }
    const std::string pad(static_cast<std::size_t>(n), ' ');
    std::string out = pad;
    for (char c : s) {
        out += c;
        if (c == '\n') {
            out += pad;
        }
        if (out.size() > ctx.max_string) {
            break;
        }
    }
    return out;
}

Value fn_indent(const CallContext& ctx, Args& a) {
    return checked(ctx, indent_text(ctx, count_arg(ctx, a[0], "the indentation"),
                                    text(ctx, a[1], "the string")));
}

Value fn_nindent(const CallContext& ctx, Args& a) {
    return checked(ctx, "\n" + indent_text(ctx, count_arg(ctx, a[0], "the indentation"),
                                           text(ctx, a[1], "the string")));
}

Value fn_contains(const CallContext& ctx, Args& a) {
    return Value::boolean(text(ctx, a[1], "the string").find(text(ctx, a[0], "the substring")) !=
                          std::string::npos);
}

Value fn_has_prefix(const CallContext& ctx, Args& a) {
    const std::string p = text(ctx, a[0], "the prefix");
    return Value::boolean(text(ctx, a[1], "the string").compare(0, p.size(), p) == 0);
}

Value fn_has_suffix(const CallContext& ctx, Args& a) {
    const std::string p = text(ctx, a[0], "the suffix");
    const std::string s = text(ctx, a[1], "the string");
    return Value::boolean(s.size() >= p.size() && s.compare(s.size() - p.size(), p.size(), p) == 0);
}

Value fn_to_string(const CallContext& ctx, Args& a) {
    return checked(ctx, display(a[0]));
}

Value fn_printf(const CallContext& ctx, Args& a) {
    if (a[0].type() != Value::Type::String) {
        throw fail(ctx, std::string("the format must be a string, got ") + type_name(a[0]));
    }
    return checked(ctx, go_printf(ctx, a[0].as_string(), a, 1));
}

Value fn_print(const CallContext& ctx, Args& a) {
    // fmt.Sprint: a space between operands when neither is a string.
    std::string out;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (i > 0 && a[i].type() != Value::Type::String && a[i - 1].type() != Value::Type::String) {
            out += ' ';
        }
        out += display(a[i]);
    }
    return checked(ctx, std::move(out));
}

Value fn_join(const CallContext& ctx, Args& a) {
    const std::string sep = text(ctx, a[0], "the separator");
    if (a[1].type() != Value::Type::Seq) {
        throw fail(ctx, std::string("expected a list, got ") + type_name(a[1]));
    }
    std::string out;
    bool first = true;
    for (const auto& v : a[1].as_list()) {
        if (!first) {
            out += sep;
        }
        first = false;
        out += display(v);
        if (out.size() > ctx.max_string) {
            break;
        }
    }
    return checked(ctx, std::move(out));
}

Value fn_to_yaml(const CallContext& ctx, Args& a) {
    return checked(ctx, to_yaml(a[0]));
}

Value fn_to_json(const CallContext& ctx, Args& a) {
    try {
        return checked(ctx, to_json(a[0]));
    } catch (const std::invalid_argument& e) {
        throw fail(ctx, e.what());
    }
}

// ---- arithmetic (Sprig: integer arithmetic on int64) --------------------

std::int64_t overflow(const CallContext& ctx) {
    throw fail(ctx, "integer overflow");
}

Value fn_add(const CallContext& ctx, Args& a) {
    std::int64_t sum = 0;
    for (const auto& v : a) {
        if (__builtin_add_overflow(sum, to_int(ctx, v), &sum)) {
            overflow(ctx);
        }
    }
    return Value::integer(sum);
}

Value fn_mul(const CallContext& ctx, Args& a) {
    std::int64_t product = 1;
    for (const auto& v : a) {
        if (__builtin_mul_overflow(product, to_int(ctx, v), &product)) {
            overflow(ctx);
        }
    }
    return Value::integer(product);
}

Value fn_sub(const CallContext& ctx, Args& a) {
    std::int64_t out = 0;
    if (__builtin_sub_overflow(to_int(ctx, a[0]), to_int(ctx, a[1]), &out)) {
        overflow(ctx);
    }
    return Value::integer(out);
}

Value fn_div(const CallContext& ctx, Args& a) {
    const std::int64_t x = to_int(ctx, a[0]);
    const std::int64_t y = to_int(ctx, a[1]);
    if (y == 0) {
        throw fail(ctx, "division by zero");
    }
    if (x == std::numeric_limits<std::int64_t>::min() && y == -1) {
        overflow(ctx);
    }
    return Value::integer(x / y);
}

Value fn_mod(const CallContext& ctx, Args& a) {
    const std::int64_t x = to_int(ctx, a[0]);
    const std::int64_t y = to_int(ctx, a[1]);
    if (y == 0) {
        throw fail(ctx, "division by zero");
    }
    if (y == -1) {
        return Value::integer(0);
    }
    return Value::integer(x % y);
}

Value fn_int(const CallContext& ctx, Args& a) {
    return Value::integer(to_int(ctx, a[0]));
}

Value fn_float(const CallContext& ctx, Args& a) {
    const Value& v = a[0];
    if (v.is_number()) {
        return Value::floating(v.as_number());
    }
    if (v.type() == Value::Type::String) {
        const Value r = resolve_plain_scalar(v.as_string());
        if (r.is_number()) {
            return Value::floating(r.as_number());
        }
    }
    throw fail(ctx, std::string("cannot convert ") + type_name(v) + " to a float");
}

// ---- collections ---------------------------------------------------------

Value fn_len(const CallContext& ctx, Args& a) {
    const Value& v = a[0];
    switch (v.type()) {
        case Value::Type::String:
            return Value::integer(static_cast<std::int64_t>(v.as_string().size()));
        case Value::Type::Seq: return Value::integer(static_cast<std::int64_t>(v.as_list().size()));
        case Value::Type::Dict: return Value::integer(static_cast<std::int64_t>(v.as_map().size()));
        case Value::Type::Null: return Value::integer(0);
        default: throw fail(ctx, std::string("len of ") + type_name(v));
    }
}

Value fn_index(const CallContext& ctx, Args& a) {
    Value v = a[0];
    for (std::size_t i = 1; i < a.size(); ++i) {
        const Value& key = a[i];
        if (v.type() == Value::Type::Dict) {
            if (key.type() != Value::Type::String) {
                throw fail(ctx, std::string("map key must be a string, got ") + type_name(key));
            }
            const auto& m = v.as_map();
            const auto it = m.find(key.as_string());
            if (it == m.end()) {
                return Value::missing(ctx.pos, "map has no key \"" + key.as_string() + "\"");
            }
            v = it->second;
        } else if (v.type() == Value::Type::Seq) {
            if (key.type() != Value::Type::Int) {
                throw fail(ctx,
                           std::string("list index must be an integer, got ") + type_name(key));
            }
            const auto& l = v.as_list();
            if (key.as_int() < 0 || static_cast<std::uint64_t>(key.as_int()) >= l.size()) {
                throw fail(ctx, "index out of range: " + std::to_string(key.as_int()));
            }
            v = l[static_cast<std::size_t>(key.as_int())];
        } else if (v.is_null()) {
            return Value::missing(ctx.pos, "can't index a null value");
        } else {
            throw fail(ctx, std::string("can't index item of type ") + type_name(v));
        }
    }
    return v;
}

Value fn_has_key(const CallContext& ctx, Args& a) {
    if (a[0].type() != Value::Type::Dict) {
        throw fail(ctx, std::string("expected a map, got ") + type_name(a[0]));
    }
    return Value::boolean(a[0].as_map().count(text(ctx, a[1], "the key")) != 0);
}

Value fn_keys(const CallContext& ctx, Args& a) {
    List out;
    for (const auto& v : a) {
        if (v.type() != Value::Type::Dict) {
            throw fail(ctx, std::string("expected a map, got ") + type_name(v));
        }
        for (const auto& kv : v.as_map()) {
            out.push_back(Value::string(kv.first));
        }
    }
    std::sort(out.begin(), out.end(),
              [](const Value& x, const Value& y) { return x.as_string() < y.as_string(); });
    return Value::list(std::move(out));
}

Value nested_checked(const CallContext& ctx, Value v) {
    if (v.depth() > kMaxValueDepth) {
        throw fail(ctx, "values nested deeper than " + std::to_string(kMaxValueDepth) + " levels");
    }
    if (v.size() > kMaxValueSize) {
        throw fail(ctx,
                   "more than " + std::to_string(kMaxValueSize) + " values in one list or map");
    }
    return v;
}

Value fn_list(const CallContext& ctx, Args& a) {
    return nested_checked(ctx, Value::list(a));
}

Value fn_dict(const CallContext& ctx, Args& a) {
    if (a.size() % 2 != 0) {
        throw fail(ctx, "expected key/value pairs, got an odd number of arguments");
    }
    Map m;
    for (std::size_t i = 0; i < a.size(); i += 2) {
        m[text(ctx, a[i], "a key")] = a[i + 1];
    }
    return nested_checked(ctx, Value::map(std::move(m)));
}

const FunctionInfo kFunctions[] = {
    {"add", fn_add, 1, -1, false},
    {"coalesce", fn_coalesce, 0, -1, true},
    {"contains", fn_contains, 2, 2, false},
    {"default", fn_default, 1, 2, true},
    {"dict", fn_dict, 0, -1, false},
    {"div", fn_div, 2, 2, false},
    {"empty", fn_empty, 1, 1, true},
    {"eq", fn_eq, 2, -1, false},
    {"fail", fn_fail, 1, 1, false},
    {"float64", fn_float, 1, 1, false},
    {"ge", fn_ge, 2, 2, false},
    {"gt", fn_gt, 2, 2, false},
    {"hasKey", fn_has_key, 2, 2, false},
    {"hasPrefix", fn_has_prefix, 2, 2, false},
    {"hasSuffix", fn_has_suffix, 2, 2, false},
    {"indent", fn_indent, 2, 2, false},
    {"index", fn_index, 1, -1, false},
    {"int", fn_int, 1, 1, false},
    {"join", fn_join, 2, 2, false},
    {"keys", fn_keys, 1, -1, false},
    {"le", fn_le, 2, 2, false},
    {"len", fn_len, 1, 1, false},
    {"list", fn_list, 0, -1, false},
    {"lower", fn_lower, 1, 1, false},
    {"lt", fn_lt, 2, 2, false},
    {"mod", fn_mod, 2, 2, false},
    {"mul", fn_mul, 1, -1, false},
    {"ne", fn_ne, 2, 2, false},
    {"nindent", fn_nindent, 2, 2, false},
    {"not", fn_not, 1, 1, true},
    {"print", fn_print, 0, -1, false},
    {"printf", fn_printf, 1, -1, false},
    {"quote", fn_quote, 0, -1, false},
    {"replace", fn_replace, 3, 3, false},
    {"required", fn_required, 2, 2, true},
    {"squote", fn_squote, 0, -1, false},
    {"sub", fn_sub, 2, 2, false},
    {"ternary", fn_ternary, 3, 3, false},
    {"toJson", fn_to_json, 1, 1, false},
    {"toString", fn_to_string, 1, 1, false},
    {"toYaml", fn_to_yaml, 1, 1, false},
    {"trim", fn_trim, 1, 1, false},
    {"trimPrefix", fn_trim_prefix, 2, 2, false},
    {"trimSuffix", fn_trim_suffix, 2, 2, false},
    {"upper", fn_upper, 1, 1, false},
};

}  // namespace

const FunctionInfo* find_function(std::string_view name) {
    for (const auto& f : kFunctions) {
        if (name == f.name) {
            return &f;
        }
    }
    return nullptr;
}

bool is_special_function(std::string_view name) {
    return name == "and" || name == "or" || name == "include";
}

bool function_exists(std::string_view name) {
    return is_special_function(name) || find_function(name) != nullptr;
}

std::vector<std::string> function_names() {
    std::vector<std::string> out{"and", "or", "include"};
    for (const auto& f : kFunctions) {
        out.emplace_back(f.name);
    }
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace crossover::tmpl
