#include "crossover_smi/trafficsplit.h"

#include <cstdint>
#include <limits>
#include <regex>
#include <set>
#include <string>

#include "crossover/status.h"
#include "crossover_smi/quantity.h"

namespace crossover::smi {
namespace {

std::string scalar_or_empty(const YAML::Node& node) {
    return node && node.IsScalar() ? node.Scalar() : std::string();
}

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
void read_metadata(TrafficSplit& ts, const YAML::Node& body) {
    const YAML::Node metadata = body && body.IsMap() ? body["metadata"] : YAML::Node();
    if (ts.ref.kind.empty()) {
        ts.ref.kind = "TrafficSplit";
    }
    if (!metadata || !metadata.IsMap()) {
        return;
    }
    if (ts.ref.name.empty()) {
        ts.ref.name = scalar_or_empty(metadata["name"]);
    }
    if (ts.ref.ns.empty()) {
        ts.ref.ns = scalar_or_empty(metadata["namespace"]);
    }
    if (ts.ref.resource_version.empty()) {
        ts.ref.resource_version = scalar_or_empty(metadata["resourceVersion"]);
    }
}

// Reads one TrafficSplit's spec; every message starts with the split's name.
class SplitReader {
public:
    explicit SplitReader(TrafficSplit& ts) : ts_(ts), prefix_(ts.describe() + ": ") {}

    [[nodiscard]] Error fail(const std::string& field, const std::string& why) const {
        return Error(prefix_ + field + ": " + why);
    }

    void read(const Object& object, const YAML::Node& body) {
        ts_.api_version =
            object.api_version.empty() ? scalar_or_empty(body["apiVersion"]) : object.api_version;
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
        const YAML::Node spec = body["spec"];
        if (!spec || !spec.IsMap()) {
            throw fail("spec", "missing or not a map");
        }
        const YAML::Node service = spec["service"];
        if (!service || !service.IsScalar() || service.Scalar().empty()) {
            throw fail("spec.service", "missing or empty");
        }
        ts_.service = service.Scalar();
        if (spec["matches"]) {
            ts_.matches = spec["matches"];
        }
        read_backends(spec["backends"]);
    }

private:
    void read_backends(const YAML::Node& backends) {
        if (!backends || !backends.IsSequence() || backends.size() == 0) {
            throw fail("spec.backends", "no backends");
        }
        std::set<std::string> seen;
        for (std::size_t i = 0; i < backends.size(); ++i) {
            const std::string field = "spec.backends[" + std::to_string(i) + "]";
            const YAML::Node b = backends[i];
            if (!b.IsMap()) {
                throw fail(field, "not a map");
            }
            Backend backend;
            const YAML::Node bs = b["service"];
            if (!bs || !bs.IsScalar() || bs.Scalar().empty()) {
                throw fail(field + ".service", "missing or empty");
            }
            backend.service = bs.Scalar();
            if (!seen.insert(backend.service).second) {
                throw fail(field + ".service", "duplicate backend '" + backend.service + "'");
            }
            read_weight(b["weight"], field + ".weight", backend);
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
    void read_weight(const YAML::Node& w, const std::string& field, Backend& backend) {
        if (!w || !w.IsScalar() || w.Scalar().empty()) {
            throw fail(field, "missing");
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
                throw fail(field, e.what());
            }
            if (q.negative) {
                throw fail(field, "negative weight " + backend.weight_text);
            }
            parsed_.push_back(q);
            return;
        }
        if (!is_integer) {
            throw fail(field, "expected an integer or a quantity string (\"500m\"), got '" +
                                  backend.weight_text + "'");
        }
        if (value < 0) {
            throw fail(field, "negative weight " + std::to_string(value));
        }
        if (value > std::numeric_limits<std::uint32_t>::max()) {
            throw fail(field,
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
    read_metadata(ts, body);
    if (!body || !body.IsMap()) {
        throw Error(ts.describe() + ": the object is not a map");
    }
    SplitReader(ts).read(object, body);
    return ts;
}

}  // namespace crossover::smi
