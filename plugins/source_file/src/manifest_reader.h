// Turns Kubernetes manifest files into a snapshot: each ConfigMap key becomes a
// document; TrafficSplits (and any other kind) are kept as objects; a file that
// is not a manifest (no kind/apiVersion) becomes one document named after it.
#pragma once

#include <string>
#include <vector>

#include "crossover/snapshot.h"

namespace crossover::file_source {

// The files `paths` stands for: files as given, *.yaml/*.yml/*.json inside
// directories (not recursive), sorted. Missing paths are reported in `missing`.
std::vector<std::string> expand_paths(const std::vector<std::string>& paths,
                                      std::vector<std::string>& missing);

// Reads and parses every file. Throws crossover::Error naming the file (and
// line, object and key where it applies) on invalid input.
Snapshot read_manifests(const std::vector<std::string>& files);

// Adds the documents and objects of one file's text to `out`.
void add_manifest_text(const std::string& text, const std::string& file, Snapshot& out);

// Decodes base64 (RFC 4648, padding optional, whitespace ignored). Throws on bad input.
std::string base64_decode(const std::string& text);

}  // namespace crossover::file_source
