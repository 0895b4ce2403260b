// printf: a subset of Go's fmt.Sprintf.
//
// Verbs: %v %s %q %d %f %F %e %E %g %G %t %x %X %o %b %%, with the flags
// - + space 0 and a width and precision. Unlike Go, a verb given the wrong
// type of argument, a missing argument or an extra one is an error rather
// than "%!d(string=...)" text in the output.
#include <charconv>
#include <cmath>
#include <string>

#include "functions.h"
#include "printf.h"

namespace crossover::tmpl {
namespace {

struct Spec {
    bool minus = false;
    bool plus = false;
    bool space = false;
    bool zero = false;
    bool sharp = false;
    int width = -1;
    int precision = -1;
    char verb = 'v';
};

std::string pad(std::string s, const Spec& spec, bool numeric) {
    if (spec.width < 0 || s.size() >= static_cast<std::size_t>(spec.width)) {
        return s;
    }
    const std::size_t fill = static_cast<std::size_t>(spec.width) - s.size();
    if (spec.minus) {
        return s + std::string(fill, ' ');
    }
    if (spec.zero && numeric) {
        std::size_t sign = (!s.empty() && (s[0] == '-' || s[0] == '+' || s[0] == ' ')) ? 1 : 0;
        return s.substr(0, sign) + std::string(fill, '0') + s.substr(sign);
    }
    return std::string(fill, ' ') + s;
}

std::string sign_prefix(bool negative, const Spec& spec) {
    if (negative) {
        return "-";
    }
    if (spec.plus) {
        return "+";
    }
    if (spec.space) {
        return " ";
    }
    return "";
}

std::string format_int(std::int64_t v, const Spec& spec) {
    const bool negative = v < 0;
    const std::uint64_t magnitude =
        negative ? static_cast<std::uint64_t>(-(v + 1)) + 1 : static_cast<std::uint64_t>(v);
    int base = 10;
    std::string prefix;
    switch (spec.verb) {
        case 'x':
        case 'X':
            base = 16;
            if (spec.sharp) {
                prefix = spec.verb == 'x' ? "0x" : "0X";
            }
            break;
        case 'o':
            base = 8;
            if (spec.sharp) {
                prefix = "0";
            }
            break;
        case 'b': base = 2; break;
        default: break;
    }
    char buf[80];
    const auto res = std::to_chars(buf, buf + sizeof(buf), magnitude, base);
    std::string digits(buf, res.ptr);
    if (spec.verb == 'X') {
        for (auto& c : digits) {
            c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        }
    }
    if (spec.precision >= 0 && digits.size() < static_cast<std::size_t>(spec.precision)) {
        digits.insert(0, static_cast<std::size_t>(spec.precision) - digits.size(), '0');
    }
    return pad(sign_prefix(negative, spec) + prefix + digits, spec, spec.precision < 0);
}

std::string format_floating(double v, const Spec& spec) {
    if (std::isnan(v)) {
        return pad("NaN", spec, false);
    }
    if (std::isinf(v)) {
        return pad(v > 0 ? (spec.plus ? "+Inf" : "Inf") : "-Inf", spec, false);
    }
    char buf[512];
    std::to_chars_result res{};
    const double a = std::fabs(v);
    switch (spec.verb) {
        case 'e':
        case 'E':
            res = std::to_chars(buf, buf + sizeof(buf), a, std::chars_format::scientific,
                                spec.precision < 0 ? 6 : spec.precision);
            break;
        case 'g':
        case 'G':
            if (spec.precision < 0) {
                std::string s = format_float(a);
                if (spec.verb == 'G') {
                    for (auto& c : s) {
                        c = c == 'e' ? 'E' : c;
                    }
                }
                return pad(sign_prefix(std::signbit(v), spec) + s, spec, true);
            }
            res = std::to_chars(buf, buf + sizeof(buf), a, std::chars_format::general,
                                spec.precision == 0 ? 1 : spec.precision);
            break;
        default:
            if (a >= 1e300) {
                res = std::to_chars(buf, buf + sizeof(buf), a, std::chars_format::scientific);
            } else {
                res = std::to_chars(buf, buf + sizeof(buf), a, std::chars_format::fixed,
                                    spec.precision < 0 ? 6 : spec.precision);
            }
            break;
    }
    std::string s(buf, res.ptr);
    if (spec.verb == 'E' || spec.verb == 'G') {
        for (auto& c : s) {
            if (c == 'e') {
                c = 'E';
            }
        }
    }
    return pad(sign_prefix(std::signbit(v) && v != 0.0, spec) + s, spec, true);
}

TemplateError printf_error(const CallContext& ctx, const std::string& why) {
    return TemplateError(ctx.pos, "printf: " + why);
}

// Reads a width or precision at `i` into `into` (unchanged when there is none).
void read_number(const CallContext& ctx, const std::string& format, std::size_t& i, int& into) {
    int n = 0;
    bool any = false;
    while (i < format.size() && format[i] >= '0' && format[i] <= '9') {
        n = n * 10 + (format[i] - '0');
        if (n > 10000) {
            throw printf_error(ctx, "width or precision larger than 10000");
        }
        any = true;
        ++i;
    }
    if (any) {
        into = n;
    }
}

// Reads the flags, width, precision and verb after a '%' (`i` is just past it)
// and leaves `i` on the verb.
Spec read_spec(const CallContext& ctx, const std::string& format, std::size_t& i) {
    Spec spec;
    for (; i < format.size(); ++i) {
        const char c = format[i];
        if (c == '-') {
            spec.minus = true;
        } else if (c == '+') {
            spec.plus = true;
        } else if (c == ' ') {
            spec.space = true;
        } else if (c == '0') {
            spec.zero = true;
        } else if (c == '#') {
            spec.sharp = true;
        } else {
            break;
        }
    }
    read_number(ctx, format, i, spec.width);
    if (i < format.size() && format[i] == '.') {
        ++i;
        spec.precision = 0;
        read_number(ctx, format, i, spec.precision);
    }
    if (i >= format.size()) {
        throw printf_error(ctx, "format ends inside a verb");
    }
    spec.verb = format[i];
    return spec;
}

std::string hex_of_bytes(const std::string& s, bool upper) {
    const char* digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    std::string hex;
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        hex += digits[u >> 4];
        hex += digits[u & 0xf];
    }
    return hex;
}

// %d %o %b %x %X: integers, floats without a fraction, and (%x %X) the bytes
// of a string.
std::string format_integer_verb(const CallContext& ctx, const Spec& spec, const Value& arg,
                                const std::string& verb) {
    if (arg.type() == Value::Type::Int) {
        return format_int(arg.as_int(), spec);
    }
    if (arg.type() == Value::Type::Float && std::trunc(arg.as_float()) == arg.as_float() &&
        std::fabs(arg.as_float()) < 9.2e18) {
        return format_int(static_cast<std::int64_t>(arg.as_float()), spec);
    }
    if ((spec.verb == 'x' || spec.verb == 'X') && arg.type() == Value::Type::String) {
        return pad(hex_of_bytes(arg.as_string(), spec.verb == 'X'), spec, false);
    }
    throw printf_error(
        ctx, verb + " needs an integer, got " + type_name(arg) + " " + go_quote(display(arg)));
}

// One argument formatted by its verb.
std::string format_arg(const CallContext& ctx, const Spec& spec, const Value& arg) {
    const std::string verb = std::string("%") + spec.verb;
    switch (spec.verb) {
        case 'v':
        case 's': {
            std::string s = display(arg);
            if (spec.verb == 's' && spec.precision >= 0 &&
                s.size() > static_cast<std::size_t>(spec.precision)) {
                s.resize(static_cast<std::size_t>(spec.precision));
            }
            return pad(s, spec, false);
        }
        case 'q': return pad(go_quote(display(arg)), spec, false);
        case 't':
            if (arg.type() != Value::Type::Bool) {
                throw printf_error(ctx, verb + " needs a bool, got " + type_name(arg));
            }
            return pad(arg.as_bool() ? "true" : "false", spec, false);
        case 'd':
        case 'o':
        case 'b':
        case 'x':
        case 'X': return format_integer_verb(ctx, spec, arg, verb);
        case 'f':
        case 'F':
        case 'e':
        case 'E':
        case 'g':
        case 'G':
            if (!arg.is_number()) {
                throw printf_error(ctx, verb + " needs a number, got " + type_name(arg) + " " +
                                            go_quote(display(arg)));
            }
            return format_floating(arg.as_number(), spec);
        default: throw printf_error(ctx, "unsupported verb " + verb);
    }
}

}  // namespace

std::string go_printf(const CallContext& ctx, const std::string& format,
                      const std::vector<Value>& args, std::size_t first_arg) {
    std::string out;
    std::size_t next = first_arg;
    for (std::size_t i = 0; i < format.size(); ++i) {
        if (format[i] != '%') {
            out += format[i];
            continue;
        }
        ++i;
        if (i >= format.size()) {
            throw printf_error(ctx, "format ends with a lone %");
        }
        if (format[i] == '%') {
            out += '%';
            continue;
        }
        const Spec spec = read_spec(ctx, format, i);
        if (next >= args.size()) {
            throw printf_error(ctx, std::string("missing argument for %") + spec.verb);
        }
        const Value& arg = args[next++];
        arg.require_present();
        out += format_arg(ctx, spec, arg);
        if (out.size() > ctx.max_string) {
            throw printf_error(ctx,
                               "result longer than " + std::to_string(ctx.max_string) + " bytes");
        }
    }
    if (next < args.size()) {
        throw printf_error(ctx, "too many arguments: " + std::to_string(args.size() - next) +
                                    " not used by the format");
    }
    return out;
}

}  // namespace crossover::tmpl
