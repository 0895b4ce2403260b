// Reads a JSON object into the same Poco::JSON tree as Poco::JSON::Parser,
// holding each string once.
//
// A watch event of a ConfigMap is one line whose data is a single string as
// large as the document it carries (300 KiB for 1,000 virtual hosts). Poco's
// parser holds that string four times over while it reads it (its token
// buffer grown by doubling, the token as a string, the value handed to the
// tree and the tree's own copy), and the peak of a ConfigMap update was made
// of them. This reader decodes each string straight into the value the tree
// keeps, sized once, and places a large one into its object without a copy.
//
// It reads only what it is sure Poco reads the same way: strict JSON (RFC
// 8259) with valid UTF-8, surrogate pairs only as pairs, keys without a NUL
// (Poco cuts a key there), integers that fit an Int64 and floating-point
// numbers Poco's NumberParser reads, nesting up to 64 levels. For anything else it returns null
// and the caller uses Poco's parser, whose tree and messages stay the reference (the fuzz target
// json_reader checks that both give the same tree for every input it reads).
#pragma once

#include <string_view>

#include <Poco/JSON/Object.h>

namespace crossover::kube {

// The object `text` holds, or null when `text` is not JSON this reader reads
// (not JSON at all, not an object, or something it leaves to Poco's parser).
Poco::JSON::Object::Ptr read_json_object(std::string_view text);

}  // namespace crossover::kube
