// The template engine's value model: what `.`, variables and function results
// hold. Containers are shared immutable trees, so copying a Value is cheap.
//
// Besides the seven data types, a Value can be Missing: the result of reading
// a key that does not exist. Guards (`if`, `with`, `default`, `and`, `or`,
// `not`, ...) treat it as empty; anything else that touches it reports the
// recorded error (message and position of the lookup).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include <yaml-cpp/yaml.h>

namespace crossover::tmpl {

struct Pos {
    int line = 0;  // 1-based
    int col = 0;   // 1-based, in bytes
};

// An error at a position of the template text; the caller adds the name.
class TemplateError : public std::exception {
public:
    TemplateError(Pos pos, std::string message) : pos_(pos), message_(std::move(message)) {}
    [[nodiscard]] const char* what() const noexcept override { return message_.c_str(); }
    [[nodiscard]] Pos pos() const noexcept { return pos_; }
    [[nodiscard]] const std::string& message() const noexcept { return message_; }
    // "name:line:col: message"
    [[nodiscard]] std::string format(const std::string& name) const;

private:
    Pos pos_;
    std::string message_;
};

class Value;
using List = std::vector<Value>;
using Map = std::map<std::string, Value>;

struct MissingInfo {
    Pos pos;
    std::string message;  // e.g. map has no key "weight"
};

class Value {
public:
    enum class Type : std::uint8_t { Null, Missing, Bool, Int, Float, String, Seq, Dict };

    Value() = default;  // null
    static Value missing(Pos pos, std::string message);
    static Value boolean(bool b);
    static Value integer(std::int64_t i);
    static Value floating(double f);
    static Value string(std::string s);
    static Value list(List items);
    static Value map(Map entries);

    [[nodiscard]] Type type() const noexcept { return static_cast<Type>(data_.index()); }
    [[nodiscard]] bool is_null() const noexcept { return type() == Type::Null; }
    [[nodiscard]] bool is_missing() const noexcept { return type() == Type::Missing; }
    [[nodiscard]] bool is_number() const noexcept {
        return type() == Type::Int || type() == Type::Float;
    }

    [[nodiscard]] bool as_bool() const { return std::get<bool>(data_); }
    [[nodiscard]] std::int64_t as_int() const { return std::get<std::int64_t>(data_); }
    [[nodiscard]] double as_float() const { return std::get<double>(data_); }
    // Int or Float as double.
    [[nodiscard]] double as_number() const;
    [[nodiscard]] const std::string& as_string() const { return std::get<std::string>(data_); }
    [[nodiscard]] const List& as_list() const {
        return *std::get<std::shared_ptr<const List>>(data_);
    }
    [[nodiscard]] const Map& as_map() const { return *std::get<std::shared_ptr<const Map>>(data_); }
    [[nodiscard]] const MissingInfo& as_missing() const {
        return *std::get<std::shared_ptr<const MissingInfo>>(data_);
    }

    // Throws TemplateError with the lookup's position when Missing.
    void require_present() const;

    // Nesting depth: 0 for scalars, 1 + the deepest element for containers.
    [[nodiscard]] std::uint32_t depth() const noexcept { return depth_; }
    // Number of values in the tree, counting shared subtrees every time they
    // appear (what printing it would visit), saturating.
    [[nodiscard]] std::uint64_t size() const noexcept { return size_; }

private:
    std::variant<std::monostate, std::shared_ptr<const MissingInfo>, bool, std::int64_t, double,
                 std::string, std::shared_ptr<const List>, std::shared_ptr<const Map>>
        data_;
    std::uint32_t depth_ = 0;
    std::uint64_t size_ = 1;
};

// Containers nest at most this deep (deeper data is refused where it is
// built), which bounds every recursive walk over a value.
inline constexpr std::uint32_t kMaxValueDepth = 512;
// Likewise for the number of values in one tree (a list holding itself
// twice, repeatedly, would otherwise print forever).
inline constexpr std::uint64_t kMaxValueSize = 1'000'000;

// "null", "bool", "int", "float", "string", "list", "map", "missing value".
const char* type_name(Value::Type type) noexcept;
inline const char* type_name(const Value& v) noexcept {
    return type_name(v.type());
}

// Go template truth: false, 0, 0.0, "", null, missing and empty containers
// are false; everything else is true.
bool truthy(const Value& v) noexcept;

// Go's %v rendering: strings as is, null as "", lists "[a b]", maps
// "map[k:v]", floats in the shortest form ("1.5", "1e+06").
std::string display(const Value& v);

// Go's strconv.FormatFloat(f, 'g', -1, 64).
std::string format_float(double f);

// Builds a value from YAML: plain scalars resolve like YAML 1.1 in Helm
// (null, true/false/yes/no/on/off, integers, floats), quoted scalars stay
// strings. Throws crossover::Error for a non-scalar map key; `what` names the
// source for the message.
Value from_yaml(const YAML::Node& node, const std::string& what = "value");

// How a plain YAML scalar resolves (used by from_yaml and by toYaml to decide
// when a string needs quotes).
Value resolve_plain_scalar(const std::string& text);

// Structural equality for eq/ne on basic types; numbers compare by value.
// Returns false (and sets comparable=false) when the types cannot be compared.
bool values_equal(const Value& a, const Value& b, bool& comparable);

}  // namespace crossover::tmpl
