// header_injection: a transform plugin built outside the crossover tree,
// against the installed SDK only.
//
// Adds request_headers_to_add / response_headers_to_add entries to the
// virtual hosts, routes and weighted clusters named in its options, in every
// RouteConfiguration (v3 or v2) of its inputs' documents. Header values may
// use {{weight}} (the weighted cluster's current weight) and {{trafficsplit}}
// (the name of the TrafficSplit that has the cluster as a backend).
// Documents without routes, and routes it does not select, pass through
// untouched.
#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "crossover/errors.h"
#include "crossover/inputs.h"
#include "crossover/sdk.h"
#include "crossover_envoy/xds.h"

namespace {

using crossover::ComponentConfig;
using crossover::DocumentPtr;
using crossover::Error;
using crossover::Input;
using crossover::SnapshotPtr;
using crossover::Status;
namespace xds = crossover::xds;

struct HeaderOptions {
    std::vector<std::string> virtual_hosts;
    std::vector<std::string> routes;
    std::vector<std::string> clusters;
    std::map<std::string, std::string> request_headers_to_add;
    std::map<std::string, std::string> response_headers_to_add;
    std::vector<std::string> documents;
    bool dot_to_underscore = false;
    bool require_match = true;
};

const crossover::OptionTable<HeaderOptions> kOptions{
    crossover::option("virtual_hosts", &HeaderOptions::virtual_hosts,
                      "Virtual hosts (by name) that get the headers"),
    crossover::option("routes", &HeaderOptions::routes,
                      "Routes (by their `name`) that get the headers"),
    crossover::option("clusters", &HeaderOptions::clusters,
                      "Weighted clusters (by name, in every route) that get the headers"),
    crossover::option("request_headers_to_add", &HeaderOptions::request_headers_to_add,
                      "Header name to value, added to requests; values may use {{weight}} and "
                      "{{trafficsplit}} (clusters only)"),
    crossover::option("response_headers_to_add", &HeaderOptions::response_headers_to_add,
                      "Header name to value, added to responses; same placeholders"),
    crossover::option("documents", &HeaderOptions::documents,
                      "Only edit these documents (default: every document holding a "
                      "RouteConfiguration)"),
    crossover::option("dot_to_underscore", &HeaderOptions::dot_to_underscore,
                      "Match a TrafficSplit backend to its cluster with '.' replaced by '_' "
                      "(Helm chart naming)"),
    crossover::option("require_match", &HeaderOptions::require_match,
                      "Fail when a selected name matches nothing, so a typo never goes "
                      "unnoticed"),
};

// A header value with placeholders, split once at start.
struct Template {
    struct Part {
        bool placeholder = false;
        std::string text;  // literal text, or the placeholder's name
    };
    std::vector<Part> parts;
    bool has_placeholders = false;

    static Template parse(const ComponentConfig& config, const std::string& option,
                          const std::string& value) {
        Template t;
        std::size_t pos = 0;
        while (pos < value.size()) {
            const std::size_t open = value.find("{{", pos);
            if (open == std::string::npos) {
                t.parts.push_back({false, value.substr(pos)});
                break;
            }
            if (open > pos) {
                t.parts.push_back({false, value.substr(pos, open - pos)});
            }
            const std::size_t close = value.find("}}", open + 2);
            if (close == std::string::npos) {
                throw crossover::option_error(config, option, "unclosed '{{' in '" + value + "'");
            }
            std::string name = value.substr(open + 2, close - open - 2);
            name.erase(0, name.find_first_not_of(' '));
            name.erase(name.find_last_not_of(' ') + 1);
            if (name != "weight" && name != "trafficsplit") {
                throw crossover::option_error(config, option,
                                              "unknown placeholder '{{" + name + "}}' in '" +
                                                  value +
                                                  "' (known: {{weight}}, {{trafficsplit}})");
            }
            t.parts.push_back({true, name});
            t.has_placeholders = true;
            pos = close + 2;
        }
        return t;
    }
};

struct Header {
    std::string field;  // request_headers_to_add or response_headers_to_add
    std::string name;
    Template value;
};

// The facts a placeholder may need about one weighted cluster.
struct ClusterFacts {
    const xds::XdsDocument* doc;
    const xds::WeightedClusterRef* cluster;
    const std::map<std::string, std::vector<std::string>>* split_of;  // cluster -> splits
};

std::string render(const Template& t, const ClusterFacts* facts) {
    std::string out;
    for (const auto& part : t.parts) {
        if (!part.placeholder) {
            out += part.text;
            continue;
        }
        // Only clusters carry placeholders (checked by the constructor).
        const auto& c = *facts->cluster;
        if (part.text == "weight") {
            const auto w = xds::weight(*facts->doc, c);
            if (!w) {
                throw facts->doc->error(c.path,
                                        "cluster '" + c.name + "' has no weight for {{weight}}");
            }
            out += std::to_string(*w);
            continue;
        }
        const auto it = facts->split_of->find(c.name);
        if (it == facts->split_of->end()) {
            throw facts->doc->error(c.path, "cluster '" + c.name +
                                                "' is not a backend of any TrafficSplit, so "
                                                "{{trafficsplit}} has no value");
        }
        if (it->second.size() > 1) {
            throw facts->doc->error(c.path, "cluster '" + c.name + "' is a backend of " +
                                                it->second[0] + " and " + it->second[1] +
                                                ": {{trafficsplit}} is ambiguous");
        }
        out += it->second[0].substr(it->second[0].find('/') + 1);
    }
    return out;
}

class HeaderInjection final : public crossover::Transform {
public:
    HeaderInjection(const ComponentConfig& config, const HeaderOptions& options)
        : config_(config),
          documents_(options.documents.begin(), options.documents.end()),
          dot_to_underscore_(options.dot_to_underscore),
          require_match_(options.require_match) {
        selectors_["virtual_hosts"] = {options.virtual_hosts.begin(), options.virtual_hosts.end()};
        selectors_["routes"] = {options.routes.begin(), options.routes.end()};
        selectors_["clusters"] = {options.clusters.begin(), options.clusters.end()};
        const std::pair<const char*, const std::map<std::string, std::string>*> fields[] = {
            {"request_headers_to_add", &options.request_headers_to_add},
            {"response_headers_to_add", &options.response_headers_to_add}};
        for (const auto& [field, headers] : fields) {
            for (const auto& [name, value] : *headers) {
                if (name.empty()) {
                    throw crossover::option_error(config, field, "empty header name");
                }
                headers_.push_back(Header{field, name, Template::parse(config, field, value)});
                uses_placeholders_ = uses_placeholders_ || headers_.back().value.has_placeholders;
            }
        }
        if (headers_.empty()) {
            throw crossover::option_error(config, "request_headers_to_add",
                                          "no headers: give request_headers_to_add or "
                                          "response_headers_to_add");
        }
        if (selectors_["virtual_hosts"].empty() && selectors_["routes"].empty() &&
            selectors_["clusters"].empty()) {
            throw crossover::option_error(
                config, "clusters", "nothing selected: give virtual_hosts, routes or clusters");
        }
        if (uses_placeholders_ &&
            (!selectors_["virtual_hosts"].empty() || !selectors_["routes"].empty())) {
            throw crossover::option_error(
                config, "virtual_hosts",
                "{{weight}} and {{trafficsplit}} only have values on weighted clusters: select "
                "with 'clusters' alone, or use another header_injection for virtual hosts and "
                "routes");
        }
    }

    Status transform(const std::vector<Input>& inputs, SnapshotPtr& output) noexcept override {
        return crossover::guard([&] {
            output = run(inputs);
            return Status::ok();
        });
    }

private:
    SnapshotPtr run(const std::vector<Input>& inputs) {
        const crossover::Snapshot all = crossover::union_of(inputs);
        auto out = std::make_shared<crossover::Snapshot>();
        out->objects = all.objects;
        out->complete = all.complete;
        out->missing = all.missing;

        const auto split_of =
            uses_placeholders_ ? backends(all) : std::map<std::string, std::vector<std::string>>{};
        std::string context;  // what the output depends on besides the document
        for (const auto& [cluster, splits] : split_of) {
            context += cluster + "=";
            for (const auto& s : splits) {
                context += s + ",";
            }
            context += ";";
        }

        std::map<std::string, std::set<std::string>> matched;
        std::map<std::string, Cached> next_cache;
        for (const auto& doc : all.documents) {
            if ((!documents_.empty() && documents_.count(doc->name) == 0) ||
                !xds::may_contain(doc->content, xds::ResourceKind::RouteConfiguration)) {
                out->documents.push_back(doc);
                continue;
            }
            const auto hit = cache_.find(doc->name);
            if (hit != cache_.end() && hit->second.input == doc->content &&
                hit->second.context == context) {
                out->documents.push_back(hit->second.output);
                for (const auto& [key, names] : hit->second.matched) {
                    matched[key].insert(names.begin(), names.end());
                }
                next_cache.insert(*hit);
                continue;
            }
            Cached entry{doc->content, context, doc, {}};
            edit(*doc, split_of, entry);
            out->documents.push_back(entry.output);
            for (const auto& [key, names] : entry.matched) {
                matched[key].insert(names.begin(), names.end());
            }
            next_cache.emplace(doc->name, std::move(entry));
        }
        if (require_match_) {
            check_matched(matched);
        }
        cache_ = std::move(next_cache);
        // Same content as last time: hand back the same snapshot, so nothing
        // downstream is recomputed.
        if (last_ && last_->documents == out->documents && last_->objects == out->objects &&
            last_->complete == out->complete && last_->missing == out->missing) {
            return last_;
        }
        last_ = out;
        return out;
    }

    struct Cached {
        std::string input;
        std::string context;
        DocumentPtr output;
        std::map<std::string, std::set<std::string>> matched;
    };

    // Cluster name -> "ns/name" of each TrafficSplit with it as a backend.
    [[nodiscard]] std::map<std::string, std::vector<std::string>> backends(
        const crossover::Snapshot& all) const {
        std::map<std::string, std::vector<std::string>> out;
        for (const auto& o : crossover::objects_of_kind(all, "TrafficSplit")) {
            const YAML::Node& body = o->body;
            const YAML::Node list = body["spec"] ? body["spec"]["backends"] : YAML::Node();
            if (!list || !list.IsSequence()) {
                throw crossover::error_at(*o, "spec.backends", "expected a list");
            }
            for (std::size_t i = 0; i < list.size(); ++i) {
                const YAML::Node service = list[i]["service"];
                if (!service || !service.IsScalar()) {
                    throw crossover::error_at(
                        *o, crossover::YamlPath("spec.backends").index(i).key("service"),
                        "expected a service name");
                }
                std::string cluster = service.Scalar();
                if (dot_to_underscore_) {
                    std::replace(cluster.begin(), cluster.end(), '.', '_');
                }
                out[cluster].push_back(o->ref.ns + "/" + o->ref.name);
            }
        }
        return out;
    }

    void edit(const crossover::Document& source,
              const std::map<std::string, std::vector<std::string>>& split_of,
              Cached& entry) const {
        auto doc = xds::XdsDocument::parse(source);
        bool changed = false;
        const auto apply = [&](auto& target, const ClusterFacts* facts) {
            for (const auto& h : headers_) {
                xds::set_header(doc, target, h.field.c_str(), h.name, render(h.value, facts));
            }
            changed = true;
        };
        xds::for_each_virtual_host(doc, [&](xds::VirtualHostRef& vh) {
            if (selectors_.at("virtual_hosts").count(vh.name) != 0) {
                entry.matched["virtual_hosts"].insert(vh.name);
                apply(vh, nullptr);
            }
        });
        xds::for_each_route(doc, [&](xds::RouteRef& r) {
            if (!r.name.empty() && selectors_.at("routes").count(r.name) != 0) {
                entry.matched["routes"].insert(r.name);
                apply(r, nullptr);
            }
        });
        xds::for_each_weighted_cluster(doc, [&](xds::WeightedClusterRef& c) {
            if (selectors_.at("clusters").count(c.name) != 0) {
                entry.matched["clusters"].insert(c.name);
                const ClusterFacts facts{&doc, &c, &split_of};
                apply(c, &facts);
            }
        });
        if (changed) {
            entry.output = doc.to_document();
        }
    }

    void check_matched(const std::map<std::string, std::set<std::string>>& matched) const {
        static const std::map<std::string, std::string> kWhat{{"virtual_hosts", "virtual host"},
                                                              {"routes", "route"},
                                                              {"clusters", "weighted cluster"}};
        for (const auto& [key, names] : selectors_) {
            const auto found = matched.find(key);
            for (const auto& name : names) {
                if (found == matched.end() || found->second.count(name) == 0) {
                    throw Error(config_.where(key) + "no " + kWhat.at(key) + " named '" + name +
                                "' in any RouteConfiguration of the inputs");
                }
            }
        }
    }

    ComponentConfig config_;
    std::map<std::string, std::set<std::string>> selectors_;
    std::vector<Header> headers_;
    std::set<std::string> documents_;
    bool uses_placeholders_ = false;
    bool dot_to_underscore_ = false;
    bool require_match_ = true;
    std::map<std::string, Cached> cache_;  // by document name: last input and output
    SnapshotPtr last_;                     // the last output
};

}  // namespace

CROSSOVER_PLUGIN(crossover::Kind::Transform, HeaderInjection, "header_injection",
                 "Adds request/response headers to Envoy virtual hosts, routes or weighted "
                 "clusters selected by name; values may use {{weight}} and {{trafficsplit}}.",
                 kOptions)
