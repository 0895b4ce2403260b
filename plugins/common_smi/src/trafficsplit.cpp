#include "crossover_smi/trafficsplit.h"

#include <array>
#include <cstdint>
#include <limits>
#include <regex>
#include <set>
#include <string>
#include <string_view>

#include "crossover/status.h"
#include "crossover_smi/quantity.h"

namespace crossover::smi {
namespace {

std::string scalar_or_empty(const YAML::Node& node) {
    return node && node.IsScalar() ? node.Scalar() : std::string();
}

// The values of `keys` in `map`, found in one pass over it (the first entry of each key, as
// yaml-cpp's operator[] finds it). operator[] on a const node copies every key it compares and
// formats a missing key through a stringstream: most of a TrafficSplit's parse went there.
template <std::size_t N>
class Members {
public:
    Members(const YAML::Node& map, const std::array<std::string_view, N>& keys) {
        if (!map || !map.IsMap()) {
            return;
        }
        for (const auto& entry : map) {  // each entry built once (operator-> builds one each)
            if (!entry.first.IsScalar()) {
                continue;
            }
            const std::string& key = entry.first.Scalar();
            for (std::size_t i = 0; i < N; ++i) {
                if (!found_[i] && key == keys[i]) {
                    found_[i] = true;
                    values_[i] = entry.second;
                    break;
                }
            }
        }
    }
    [[nodiscard]] bool has(std::size_t i) const { return found_[i]; }
    // The value, or a null node when the key is missing.
    [[nodiscard]] const YAML::Node& operator[](std::size_t i) const { return values_[i]; }

private:
    std::array<YAML::Node, N> values_;
    std::array<bool, N> found_{};
};

bool parse_int64(const std::string& text, std::int64_t& out) {
    if (text.empty()) {
        return false;
    }
    std::size_t i = 0;
    bool negative = false;
    if (text[0] == '+' || text[0] == '-') {
        negative = text[0] == '-';
        i = 1;
    }
    if (i == text.size()) {
        return false;
    }
    std::uint64_t value = 0;
    for (; i < text.size(); ++i) {
        if (text[i] < '0' || text[i] > '9') {
            return false;
        }
        const auto digit = static_cast<std::uint64_t>(text[i] - '0');
        if (value >
            (static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) - digit) / 10) {
            return false;
        }
        value = value * 10 + digit;
    }
    out = negative ? -static_cast<std::int64_t>(value) : static_cast<std::int64_t>(value);
    return true;
}

// A plain scalar YAML reads as a number (core schema int or float): 1.5, 1e3, .5.
bool plain_number(const std::string& text) {
    static const std::regex number(
        R"([-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN))");
    return std::regex_match(text, number);
}

// A string weight: quoted in the manifest (JSON strings from the API server carry the
// same tag), or plain text YAML does not read as a number (500m).
bool string_scalar(const YAML::Node& node) {
    return node.Tag() == "!" || !plain_number(node.Scalar());
}

}  // namespace

std::uint64_t TrafficSplit::total_weight() const {
    std::uint64_t sum = 0;
    for (const auto& b : backends) {
        sum += b.weight;
    }
    return sum;
}

bool is_trafficsplit(const Object& object) {
    if (object.ref.kind == "TrafficSplit") {
        return true;
    }
    return object.body && object.body.IsMap() &&
           scalar_or_empty(object.body["kind"]) == "TrafficSplit";
}

namespace {

// Name, namespace and resourceVersion from the body where the object's
// reference lacks them.
void read_metadata(TrafficSplit& ts, const YAML::Node& metadata) {
    if (ts.ref.kind.empty()) {
        ts.ref.kind = "TrafficSplit";
    }
    if (!ts.ref.name.empty() && !ts.ref.ns.empty() && !ts.ref.resource_version.empty()) {
        return;  // a source's reference has them all
    }
    const Members<3> m(metadata, {"name", "namespace", "resourceVersion"});
    if (ts.ref.name.empty()) {
        ts.ref.name = scalar_or_empty(m[0]);
    }
    if (ts.ref.ns.empty()) {
        ts.ref.ns = scalar_or_empty(m[1]);
    }
    if (ts.ref.resource_version.empty()) {
        ts.ref.resource_version = scalar_or_empty(m[2]);
    }
}

// Reads one TrafficSplit's spec; every message starts with the split's name.
class SplitReader {
public:
    explicit SplitReader(TrafficSplit& ts) : ts_(ts), prefix_(ts.describe() + ": ") {}

    [[nodiscard]] Error fail(const std::string& field, const std::string& why) const {
        return Error(prefix_ + field + ": " + why);
    }

    // `body` holds the object's apiVersion and spec.
    void read(const Object& object, const Members<3>& body) {
        ts_.api_version =
            object.api_version.empty() ? scalar_or_empty(body[kApiVersion]) : object.api_version;
        const auto slash = ts_.api_version.rfind('/');
        ts_.version =
            slash == std::string::npos ? ts_.api_version : ts_.api_version.substr(slash + 1);
        // v1alpha1 weights are quantities. Later versions declare integers, but a v1alpha1
        // object read through them (CRD conversion None) keeps its strings: a string weight is
        // read as a quantity in every version, and then every weight of the split is scaled
        // exactly.
        v1alpha1_ = ts_.version == "v1alpha1";
        quantities_ = v1alpha1_;
        if (!v1alpha1_ && ts_.version != "v1alpha2" && ts_.version != "v1alpha3" &&
            ts_.version != "v1alpha4") {
            throw fail("apiVersion", "unsupported version '" + ts_.api_version +
                                         "' (expected split.smi-spec.io/v1alpha1 .. v1alpha4)");
        }
        const YAML::Node& spec = body[kSpec];
        if (!body.has(kSpec) || !spec.IsMap()) {
            throw fail("spec", "missing or not a map");
        }
        const Members<3> fields(spec, {"service", "matches", "backends"});
        const YAML::Node& service = fields[0];
        if (!fields.has(0) || !service.IsScalar() || service.Scalar().empty()) {
            throw fail("spec.service", "missing or empty");
        }
        ts_.service = service.Scalar();
        if (fields.has(1)) {
            ts_.matches = fields[1];
        }
        read_backends(fields.has(2) ? fields[2] : YAML::Node(YAML::NodeType::Undefined));
    }

    // Positions in the Members<3> of the object's body.
    static constexpr std::size_t kMetadata = 0;
    static constexpr std::size_t kSpec = 1;
    static constexpr std::size_t kApiVersion = 2;

private:
    void read_backends(const YAML::Node& backends) {
        if (!backends || !backends.IsSequence() || backends.size() == 0) {
            throw fail("spec.backends", "no backends");
        }
        std::set<std::string> seen;
        ts_.backends.reserve(backends.size());
        parsed_.reserve(backends.size());
        std::size_t position = 0;
        for (const auto& b : backends) {
            const auto field = [position] {
                return "spec.backends[" + std::to_string(position) + "]";
            };
            ++position;
            if (!b.IsMap()) {
                throw fail(field(), "not a map");
            }
            Backend backend;
            const Members<2> m(b, {"service", "weight"});
            const YAML::Node& bs = m[0];
            if (!m.has(0) || !bs.IsScalar() || bs.Scalar().empty()) {
                throw fail(field() + ".service", "missing or empty");
            }
            backend.service = bs.Scalar();
            if (!seen.insert(backend.service).second) {
                throw fail(field() + ".service", "duplicate backend '" + backend.service + "'");
            }
            read_weight(m.has(1) ? m[1] : YAML::Node(YAML::NodeType::Undefined), field, backend);
            ts_.backends.push_back(std::move(backend));
        }
        if (quantities_) {
            const auto weights = quantities_to_weights(parsed_, prefix_ + "spec.backends: ");
            for (std::size_t i = 0; i < weights.size(); ++i) {
                ts_.backends[i].weight = weights[i];
            }
        }
    }

    // An integer weight, or a quantity (then every weight is scaled at the end).
    // `backend_field` names the backend ("spec.backends[1]"), written out only for an error.
    template <typename BackendField>
    void read_weight(const YAML::Node& w, const BackendField& backend_field, Backend& backend) {
        const auto field = [&] { return backend_field() + ".weight"; };
        if (!w || !w.IsScalar() || w.Scalar().empty()) {
            throw fail(field(), "missing");
        }
        backend.weight_text = w.Scalar();
        std::int64_t value = 0;
        const bool is_integer = parse_int64(backend.weight_text, value);
        if (v1alpha1_ || (!is_integer && string_scalar(w))) {
            quantities_ = true;
            Quantity q;
            try {
                q = parse_quantity(backend.weight_text);
            } catch (const Error& e) {
                throw fail(field(), e.what());
            }
            if (q.negative) {
                throw fail(field(), "negative weight " + backend.weight_text);
            }
            parsed_.push_back(q);
            return;
        }
        if (!is_integer) {
            throw fail(field(), "expected an integer or a quantity string (\"500m\"), got '" +
                                    backend.weight_text + "'");
        }
        if (value < 0) {
            throw fail(field(), "negative weight " + std::to_string(value));
        }
        if (value > std::numeric_limits<std::uint32_t>::max()) {
            throw fail(field(),
                       "weight " + std::to_string(value) + " exceeds Envoy's limit 4294967295");
        }
        backend.weight = static_cast<std::uint32_t>(value);
        parsed_.push_back(parse_quantity(backend.weight_text));
        sum_ += backend.weight;
        if (sum_ > std::numeric_limits<std::uint32_t>::max()) {
            throw fail("spec.backends", "the weights' sum exceeds Envoy's limit 4294967295");
        }
    }

    TrafficSplit& ts_;
    std::string prefix_;
    bool v1alpha1_ = false;
    bool quantities_ = false;
    std::vector<Quantity> parsed_;
    std::uint64_t sum_ = 0;
};

}  // namespace

TrafficSplit parse_trafficsplit(const Object& object) {
    TrafficSplit ts;
    ts.ref = object.ref;
    const YAML::Node& body = object.body;
    const Members<3> members(body, {"metadata", "spec", "apiVersion"});
    read_metadata(ts, members[SplitReader::kMetadata]);
    if (!body || !body.IsMap()) {
        throw Error(ts.describe() + ": the object is not a map");
    }
    SplitReader(ts).read(object, members);
    return ts;
}

}  // namespace crossover::smi
