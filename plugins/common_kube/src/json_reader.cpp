#include "crossover_kube/json_reader.h"

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

#include <Poco/Dynamic/Var.h>
#include <Poco/JSON/Array.h>
#include <Poco/NumberParser.h>

#include "crossover/utf8.h"

namespace crossover::kube {
namespace {

using Poco::Dynamic::Var;

// Strings at least this long go into their object without the copy that
// Object::set makes of a value; shorter ones cost less than the bookkeeping.
constexpr std::size_t kPlacedString = 4096;

// Deeper nesting is left to Poco's parser, which reads up to 128 levels
// (Kubernetes objects nest a few; this reader recurses once per level).
constexpr int kMaxDepth = 64;

// The length of the well-formed UTF-8 sequence at `p` (Unicode's table 3-7:
// no overlong forms, no surrogates, nothing above U+10FFFF), 0 when there is
// none before `end`.
std::size_t utf8_length(const char* p, const char* end) {
    const auto byte = [&](std::size_t i) {
        return p + i < end ? static_cast<unsigned char>(p[i]) : 0U;
    };
    const auto cont = [&](std::size_t i, unsigned lo = 0x80, unsigned hi = 0xBF) {
        const unsigned b = byte(i);
        return b >= lo && b <= hi;
    };
    const unsigned b0 = byte(0);
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        return cont(1) ? 2 : 0;
    }
    if (b0 >= 0xE0 && b0 <= 0xEF) {
        const unsigned lo = b0 == 0xE0 ? 0xA0 : 0x80;
        const unsigned hi = b0 == 0xED ? 0x9F : 0xBF;
        return cont(1, lo, hi) && cont(2) ? 3 : 0;
    }
    if (b0 >= 0xF0 && b0 <= 0xF4) {
        const unsigned lo = b0 == 0xF0 ? 0x90 : 0x80;
        const unsigned hi = b0 == 0xF4 ? 0x8F : 0xBF;
        return cont(1, lo, hi) && cont(2) && cont(3) ? 4 : 0;
    }
    return 0;
}

// The string a Var holds, to decode into: a Var takes a string only by copy,
// so the reader fills the one it keeps. The Var is the reader's own, not yet
// in any tree, and its held string is not a const object.
std::string& held_string(Var& value) {
    value = std::string();
    return const_cast<std::string&>(
        value.extract<std::string>());  // NOLINT(cppcoreguidelines-pro-type-const-cast)
}

// The tree's nodes are Poco's reference-counted objects, freed when the last AutoPtr to them
// goes; clang's analyzer does not follow those counts and reports each new node as leaked.
// NOLINTBEGIN(clang-analyzer-cplusplus.NewDeleteLeaks)
class Reader {
public:
    explicit Reader(std::string_view text) : p_(text.data()), end_(text.data() + text.size()) {}

    Poco::JSON::Object::Ptr read() {
        skip_space();
        if (p_ == end_ || *p_ != '{') {
            return nullptr;
        }
        Poco::JSON::Object::Ptr out = new Poco::JSON::Object();
        if (!object(*out, 1)) {
            return nullptr;
        }
        skip_space();
        return p_ == end_ ? out : nullptr;
    }

private:
    void skip_space() {
        while (p_ != end_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\n' || *p_ == '\r')) {
            ++p_;
        }
    }

    bool take(char c) {
        skip_space();
        if (p_ != end_ && *p_ == c) {
            ++p_;
            return true;
        }
        return false;
    }

    // At '{'. Large strings are decoded into `placed` and swapped into the
    // object's entries once it is complete (Object::set would copy them);
    // both maps are ordered by the same key order, so one walk places them.
    bool object(Poco::JSON::Object& out, int depth) {
        ++p_;
        if (take('}')) {
            return true;
        }
        std::map<std::string, Var> placed;
        for (;;) {
            skip_space();
            std::string key;
            if (p_ == end_ || *p_ != '"' || !string(key) || !take(':')) {
                return false;
            }
            if (key.find('\0') != std::string::npos) {
                return false;  // Poco's parser cuts a key at a NUL (not its values)
            }
            skip_space();
            if (p_ != end_ && *p_ == '"' && string_span() >= kPlacedString) {
                if (!string(held_string(placed[key]))) {
                    return false;
                }
                out.set(key, Var());
            } else {
                Var value;
                if (!this->value(value, depth)) {
                    return false;
                }
                if (!placed.empty()) {
                    placed.erase(key);  // a later duplicate key wins, as in Poco
                }
                out.set(key, value);
            }
            if (take(',')) {
                continue;
            }
            if (take('}')) {
                break;
            }
            return false;
        }
        auto next = placed.begin();
        for (auto it = out.begin(); it != out.end() && next != placed.end(); ++it) {
            if (it->first == next->first) {
                it->second.swap(next->second);
                ++next;
            }
        }
        return true;
    }

    // At '['.
    bool array(Poco::JSON::Array& out, int depth) {
        ++p_;
        if (take(']')) {
            return true;
        }
        for (;;) {
            skip_space();
            Var value;
            if (!this->value(value, depth)) {
                return false;
            }
            out.add(value);
            if (take(',')) {
                continue;
            }
            return take(']');
        }
    }

    // At the first byte of a value (spaces skipped).
    bool value(Var& out, int depth) {
        if (p_ == end_) {
            return false;
        }
        switch (*p_) {
            case '{': {
                if (depth >= kMaxDepth) {
                    return false;
                }
                Poco::JSON::Object::Ptr object = new Poco::JSON::Object();
                if (!this->object(*object, depth + 1)) {
                    return false;
                }
                out = object;
                return true;
            }
            case '[': {
                if (depth >= kMaxDepth) {
                    return false;
                }
                Poco::JSON::Array::Ptr array = new Poco::JSON::Array();
                if (!this->array(*array, depth + 1)) {
                    return false;
                }
                out = array;
                return true;
            }
            case '"': return string(held_string(out));
            case 't': out = true; return literal("true");
            case 'f': out = false; return literal("false");
            case 'n': return literal("null");  // an empty Var, as Poco's null
            default: return number(out);
        }
    }

    bool literal(std::string_view word) {
        if (static_cast<std::size_t>(end_ - p_) < word.size() ||
            std::string_view(p_, word.size()) != word) {
            return false;
        }
        p_ += word.size();
        return true;
    }

    // -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? as Poco reads it: an
    // integer as an Int64, anything with a fraction or an exponent as a double.
    bool number(Var& out) {
        const char* start = p_;
        const auto digits = [&] {
            const char* first = p_;
            while (p_ != end_ && *p_ >= '0' && *p_ <= '9') {
                ++p_;
            }
            return p_ != first;
        };
        if (p_ != end_ && *p_ == '-') {
            ++p_;
        }
        if (p_ != end_ && *p_ == '0') {
            ++p_;
        } else if (!digits()) {
            return false;
        }
        bool integer = true;
        if (p_ != end_ && *p_ == '.') {
            ++p_;
            integer = false;
            if (!digits()) {
                return false;
            }
        }
        if (p_ != end_ && (*p_ == 'e' || *p_ == 'E')) {
            ++p_;
            integer = false;
            if (p_ != end_ && (*p_ == '+' || *p_ == '-')) {
                ++p_;
            }
            if (!digits()) {
                return false;
            }
        }
        const std::string text(start, p_);
        if (integer) {
            Poco::Int64 n = 0;
            if (!Poco::NumberParser::tryParse64(text, n)) {
                return false;  // beyond Int64: Poco's own rules
            }
            out = n;
            return true;
        }
        double d = 0;
        if (!Poco::NumberParser::tryParseFloat(text, d)) {
            return false;
        }
        out = d;
        return true;
    }

    // The bytes from the opening quote at p_ to the closing one (the end of
    // the text when there is none): an upper bound of the decoded length.
    [[nodiscard]] std::size_t string_span() const {
        const char* q = p_ + 1;
        while (q != end_ && *q != '"') {
            q += *q == '\\' && q + 1 != end_ ? 2 : 1;
        }
        return static_cast<std::size_t>(q - p_);
    }

    // A \uXXXX escape at q (q at the backslash): its code unit, or -1.
    [[nodiscard]] long code_unit(const char* q) const {
        if (end_ - q < 6 || q[0] != '\\' || q[1] != 'u') {
            return -1;
        }
        long unit = 0;
        for (int i = 2; i < 6; ++i) {
            const int d = hex_digit(q[i]);
            if (d < 0) {
                return -1;
            }
            unit = unit * 16 + d;
        }
        return unit;
    }

    // At '"': checks the string and measures it decoded, then decodes it into
    // `out`, sized once. False for anything Poco's parser may read otherwise:
    // control characters, invalid UTF-8, unknown escapes, lone surrogates.
    bool string(std::string& out) {
        const char* q = p_ + 1;
        std::size_t size = 0;
        for (;;) {
            if (q == end_) {
                return false;
            }
            const auto c = static_cast<unsigned char>(*q);
            if (c == '"') {
                break;
            }
            if (c < 0x20) {
                return false;
            }
            if (c == '\\') {
                if (q + 1 == end_) {
                    return false;
                }
                switch (q[1]) {
                    case '"':
                    case '\\':
                    case '/':
                    case 'b':
                    case 'f':
                    case 'n':
                    case 'r':
                    case 't':
                        ++size;
                        q += 2;
                        continue;
                    case 'u': break;
                    default: return false;
                }
                const long unit = code_unit(q);
                if (unit < 0 || (unit >= 0xDC00 && unit <= 0xDFFF)) {
                    return false;
                }
                if (unit >= 0xD800 && unit <= 0xDBFF) {
                    const long low = code_unit(q + 6);
                    if (low < 0xDC00 || low > 0xDFFF) {
                        return false;
                    }
                    size += 4;
                    q += 12;
                } else {
                    size += unit < 0x80 ? 1 : unit < 0x800 ? 2 : 3;
                    q += 6;
                }
                continue;
            }
            if (c < 0x80) {
                ++size;
                ++q;
                continue;
            }
            const std::size_t n = utf8_length(q, end_);
            if (n == 0) {
                return false;
            }
            size += n;
            q += n;
        }
        out.reserve(size);
        const char* run = p_ + 1;
        for (const char* s = run; s != q;) {
            if (*s != '\\') {
                ++s;
                continue;
            }
            out.append(run, s);
            switch (s[1]) {
                case 'b': out += '\b'; break;
                case 'f': out += '\f'; break;
                case 'n': out += '\n'; break;
                case 'r': out += '\r'; break;
                case 't': out += '\t'; break;
                case 'u': {
                    auto cp = static_cast<std::uint32_t>(code_unit(s));
                    if (cp >= 0xD800 && cp <= 0xDBFF) {
                        const auto low = static_cast<std::uint32_t>(code_unit(s + 6));
                        cp = 0x10000U + ((cp - 0xD800U) << 10U) + (low - 0xDC00U);
                        s += 6;
                    }
                    append_utf8(out, cp);
                    s += 4;
                    break;
                }
                default: out += s[1]; break;  // '"', '\\', '/'
            }
            s += 2;
            run = s;
        }
        out.append(run, q);
        p_ = q + 1;
        return true;
    }

    const char* p_;
    const char* end_;
};

}  // namespace

Poco::JSON::Object::Ptr read_json_object(std::string_view text) {
    return Reader(text).read();
}
// NOLINTEND(clang-analyzer-cplusplus.NewDeleteLeaks)

}  // namespace crossover::kube
