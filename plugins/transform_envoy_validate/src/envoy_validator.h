// Checks Envoy xDS documents the way Envoy loads them: the text is read into a
// document tree (the scanner of crossover_envoy/doc_tree.h, or yaml-cpp for
// what the scanner does not take) and from the tree straight into the v3
// messages with the protobuf JSON mapping's rules (unknown fields, wrong
// types, unknown enum names and unresolvable `@type`s are errors); then the
// protoc-gen-validate rules Envoy enforces at load time are checked, routes are
// cross-checked against the clusters defined, and virtual host names and
// domains must be unique within a RouteConfiguration.
//
// Envoy's API comes from the descriptor set built with the project; a message
// type's descriptors are built the first time a document uses it.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace crossover::envoy_validate {

struct ValidatorOptions {
    // Directory laid out by packaging/fetch-envoy-protos.sh.
    std::string proto_path;
    // Legacy envoy.api.v2 documents: skipped with a warning when true.
    bool allow_v2 = true;
    // Documents that are not DiscoveryResponses: error when true.
    bool non_xds_error = false;
    // Names of documents parsed as envoy.config.bootstrap.v3.Bootstrap.
    std::vector<std::string> bootstrap;
    // Check that every cluster a route names is defined (when any is).
    bool check_clusters = true;
    // At most this many errors are reported per run.
    std::size_t max_errors = 20;
    // Receives warnings (v2 documents skipped, ...).
    std::function<void(const std::string&)> warn;
};

struct DocumentView {
    const std::string* name;     // file name, e.g. "rds.yaml"
    const std::string* content;  // bytes
    std::string origin;          // "ConfigMap ns/name" or empty
    // When set, owns `*content` (points at it): the validator keeps this
    // pointer to compare the next run's text with, instead of a copy. When
    // null, the validator copies the text.
    std::shared_ptr<const std::string> shared_content = nullptr;
};

// Where the plugin looks for protos by default, in order: next to the
// installed (or built) plugin, then the build tree.
std::vector<std::string> default_proto_candidates();
// The first default candidate that holds the protos; empty when none does.
std::string default_proto_path();
// True when `dir` holds the protos (its VERSION file and the Envoy API).
bool protos_present(const std::string& dir);

class Validator {
public:
    // Throws std::runtime_error naming the directory and the first import
    // errors when the protos are missing or do not load.
    explicit Validator(ValidatorOptions options);
    ~Validator();
    Validator(const Validator&) = delete;
    Validator& operator=(const Validator&) = delete;
    Validator(Validator&&) = delete;
    Validator& operator=(Validator&&) = delete;

    // Validates a whole pipeline run's documents together. Returns the
    // errors, each "<doc>: <path>: <problem>", capped at max_errors (the last
    // entry then says how many more there were). Empty when all are valid.
    std::vector<std::string> validate(const std::vector<DocumentView>& documents);

    // How many documents were read in full so far: a document seen before
    // whose text changed only in numbers is re-checked without being read.
    [[nodiscard]] std::size_t full_checks() const;
    // How many resources of DiscoveryResponses were read into messages so far:
    // of a document seen before, only those whose bytes changed are read again.
    [[nodiscard]] std::size_t resources_read() const;
    // How many virtual hosts were read on their own so far: of a
    // RouteConfiguration seen before whose other fields are unchanged, only
    // the virtual hosts whose bytes changed are read again (the resource then
    // does not count in resources_read).
    [[nodiscard]] std::size_t virtual_hosts_read() const;

    [[nodiscard]] const std::string& proto_version() const;
    // The directory the protos were read from.
    [[nodiscard]] const std::string& proto_path() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace crossover::envoy_validate
