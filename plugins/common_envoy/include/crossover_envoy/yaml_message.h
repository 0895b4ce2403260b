// From a YAML (or JSON) tree straight to a protobuf message of Envoy's API,
// in one pass, the way Envoy loads a file: the protobuf JSON mapping applied
// to YAML that Envoy first turns into a google.protobuf.Value. A quoted (or
// block) scalar is a string; a plain one is a boolean if YAML reads it as
// one, else an integer, else a double, else a string.
//
// Rejected, each with the path of the field: unknown fields, values of the
// wrong shape, unquoted numbers or booleans where Envoy wants a string,
// integers out of their type's range, unknown enum names, two members of one
// oneof, malformed durations, timestamps and base64, and `@type`s that name
// no message of the API. protoc-gen-validate rules are not checked here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "crossover_envoy/api.h"
#include "crossover_envoy/doc_tree.h"
#include "crossover_envoy/field_path.h"

namespace crossover::envoy {

// The problems found while building a message, each at a path such as
// "resources[0].virtual_hosts[1].routes[0].route" (empty: the whole value).
class Problems {
public:
    explicit Problems(std::size_t cap = 20) : cap_(cap) {}
    void add(const std::string& path, const std::string& problem) {
        ++total_;
        if (list_.size() < cap_) {
            list_.emplace_back(path, problem);
        }
    }
    [[nodiscard]] bool empty() const { return total_ == 0; }
    // At most `cap` problems, in the order found.
    [[nodiscard]] const std::vector<std::pair<std::string, std::string>>& list() const {
        return list_;
    }
    // How many were found, counting those over the cap.
    [[nodiscard]] std::size_t total() const { return total_; }

private:
    std::size_t cap_;
    std::size_t total_ = 0;
    std::vector<std::pair<std::string, std::string>> list_;
};

// Where a plain decimal integer of a singular field was read from. A caller
// that keeps these can re-check a document whose text changed only in such
// numbers (a canary's weights) without reading it again.
struct IntegerSite {
    std::size_t offset = 0;                      // of the scalar in the document's text
    std::size_t length = 0;                      // its digits
    const pb::FieldDescriptor* field = nullptr;  // the integer field it sets
    // The field its rules are on: `field`, or for a google.protobuf.*Value
    // the (message) field that holds the wrapper.
    const pb::FieldDescriptor* rule_field = nullptr;
};

// Reads document trees (doc_tree.h) into messages of one Api. Keep one per Api: it remembers
// each message type's field names (and JSON names) once looked up. Not
// thread-safe; use one per thread.
class YamlReader {
public:
    explicit YamlReader(const Api& api);
    ~YamlReader();
    YamlReader(const YamlReader&) = delete;
    YamlReader& operator=(const YamlReader&) = delete;
    YamlReader(YamlReader&&) = delete;
    YamlReader& operator=(YamlReader&&) = delete;

    // Fills `out` (a message of a type from api.pool()) from node `node` of
    // `tree` (npos reads as null). Returns false when any problem was added;
    // `out` then holds what could be read and must not be used. `path`
    // prefixes the problems' paths.
    bool read(const xds::DocTree& tree, std::uint32_t node, pb::Message& out,
              const std::string& path, Problems& problems);

    // Fills `out` from the fields of map `map` that also holds "@type" (the
    // inline form of a google.protobuf.Any: a resource of a
    // DiscoveryResponse), with "@type" skipped.
    bool read_fields(const xds::DocTree& tree, std::uint32_t map, pb::Message& out,
                     const std::string& path, Problems& problems);

    // Appends an IntegerSite for every plain integer of a singular field
    // read from now on (sorted by offset within one read); null stops it.
    void record_integer_sites(std::vector<IntegerSite>* sites);

    // The message each google.protobuf.Any holds, by the Any, for a caller
    // that walks the messages right after reading them (a validator) rather
    // than encoding them: kept there instead of encoded into the Any's
    // `value`, which then stays empty (encoding a large RouteConfiguration
    // and decoding it again costs as much as reading it). Null (the default)
    // encodes. The caller clears the map before the Anys it names are freed.
    // A message held by an Any read on an arena lives on that arena (the
    // deleter then leaves it to the arena).
    struct DeleteUnlessOnArena {
        void operator()(pb::Message* m) const {
            if (m != nullptr && m->GetArena() == nullptr) {
                delete m;
            }
        }
    };
    using AnyContents =
        std::unordered_map<const pb::Message*, std::unique_ptr<pb::Message, DeleteUnlessOnArena>>;
    void keep_any_contents(AnyContents* contents);

    // The items of one repeated message field read one at a time, for a
    // caller that checks each item right after it is read and so needs no
    // message holding them all (a RouteConfiguration's thousand virtual
    // hosts): each item of `field` met while reading is read into the
    // message `next(parent)` returns (on an arena the caller may reset before
    // returning the next one) instead of into its parent, whose list stays
    // empty, and handed to `done(parent, item, index, path)` before the next
    // item is read. The items are read with the same rules, paths, problems
    // and integer sites as in their parent. Null (the default) stops it.
    struct ItemStream {
        const pb::FieldDescriptor* field = nullptr;
        std::function<pb::Message*(const pb::Message& parent)> next;
        std::function<void(const pb::Message& parent, const pb::Message& item, int index,
                           const FieldPath& path)>
            done;
    };
    void stream_items(const ItemStream* stream);

    [[nodiscard]] const Api& api() const { return api_; }

private:
    class Builder;
    const Api& api_;
    std::unique_ptr<Builder> builder_;
};

// The tree of a document's text (which must outlive it): the scanner's, or
// for a text it refuses yaml-cpp's (load_yaml, whose YAML::Exception, with
// its line, is how a syntax error is reported), converted.
xds::DocTree read_doc_tree(const std::string& text);

}  // namespace crossover::envoy
