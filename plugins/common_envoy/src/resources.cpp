#include "crossover_envoy/resources.h"

#include <cstdint>
#include <string_view>
#include <utility>

#include "crossover/errors.h"
#include "crossover/yaml_load.h"
#include "crossover_envoy/types.h"
#include "crossover_envoy/yaml_message.h"
#include "crossover_envoy/yaml_scalar.h"

namespace crossover::envoy {

namespace {

std::string scalar_or_empty(const xds::DocTree& tree, std::uint32_t map, std::string_view key) {
    return std::string(tree.scalar(tree.find(map, {key})));
}

class Collector {
public:
    Collector(const Document& document, DecodedDocument& out, std::size_t cap)
        : subject_(describe(document)), out_(out), cap_(cap) {}
    ~Collector() {
        if (total_ > out_.errors.size()) {
            out_.errors.push_back("... and more (only the first " +
                                  std::to_string(out_.errors.size()) + " errors are shown)");
        }
    }
    Collector(const Collector&) = delete;
    Collector& operator=(const Collector&) = delete;
    Collector(Collector&&) = delete;
    Collector& operator=(Collector&&) = delete;

    void add(const std::string& resource, const std::string& path, const std::string& problem) {
        ++total_;
        if (out_.errors.size() < cap_) {
            const std::string subject =
                resource.empty() ? subject_ : subject_ + ": resource " + quote(resource);
            out_.errors.push_back(error_message(subject, path, problem));
        }
    }
    void add_all(const std::string& resource, const Problems& problems) {
        for (const auto& [path, problem] : problems.list()) {
            add(resource, path, problem);
        }
        total_ += problems.total() - problems.list().size();
    }

private:
    std::string subject_;
    DecodedDocument& out_;
    std::size_t cap_;
    std::size_t total_ = 0;
};

}  // namespace

DecodedDocument decode_resources(const Api& api, const Document& document, std::size_t max_errors) {
    xds::DocTree tree;
    try {
        tree = read_doc_tree(document.content);  // the limits of every input document
    } catch (const YAML::Exception& e) {
        DecodedDocument out;
        Collector errors(document, out, max_errors);
        errors.add({}, e.mark.line >= 0 ? "line " + std::to_string(e.mark.line + 1) : "",
                   "invalid YAML: " + e.msg);
        return out;
    }
    DecodedDocument out;
    Collector errors(document, out, max_errors);
    constexpr std::uint32_t root = 0;
    if (!tree.is_map(root)) {
        errors.add({}, {}, "expected a DiscoveryResponse (a map with \"resources\")");
        return out;
    }
    out.version_info = scalar_or_empty(tree, root, "version_info");
    const std::uint32_t resources = tree.find(root, {"resources"});
    if (resources == xds::DocTree::npos || tree[resources].kind == xds::DocKind::Null) {
        return out;
    }
    if (!tree.is_seq(resources)) {
        errors.add({}, "resources", "expected a list, got " + node_kind(tree, resources));
        return out;
    }
    YamlReader reader(api);
    std::size_t index = 0;
    for (const std::uint32_t node : tree.children(resources)) {
        const std::string path = "resources[" + std::to_string(index) + "]";
        DecodedResource r;
        r.index = index++;
        if (!tree.is_map(node)) {
            errors.add({}, path,
                       "expected a resource (a map with \"@type\"), got " + node_kind(tree, node));
            continue;
        }
        r.type_url = scalar_or_empty(tree, node, "@type");
        r.name = scalar_or_empty(tree, node, name_field(type_info(r.type_url).kind));
        if (r.type_url.empty()) {
            errors.add(r.name, path, "missing \"@type\"");
            continue;
        }
        if (r.type_url.find('/') == std::string::npos) {
            errors.add(r.name, path + ".@type",
                       "type URL " + quote(r.type_url) +
                           " has no '/' (expected type.googleapis.com/" + r.type_url + ")");
            continue;
        }
        const pb::Descriptor* type = api.find_type_url(r.type_url);
        if (type == nullptr) {
            errors.add(
                r.name, path + ".@type",
                "unknown type " + quote(r.type_url) + ": no such message in the Envoy API (v3)");
            continue;
        }
        r.message = api.new_message(type);
        Problems problems(max_errors);
        if (!reader.read_fields(tree, node, *r.message, path, problems)) {
            errors.add_all(r.name, problems);
            continue;
        }
        out.resources.push_back(std::move(r));
    }
    return out;
}

}  // namespace crossover::envoy
