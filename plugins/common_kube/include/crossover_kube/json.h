// JSON helpers for Kubernetes objects (Poco::JSON), and conversion to the
// YAML::Node trees the SDK's Object carries.
#pragma once

#include <string>

#include <Poco/Dynamic/Var.h>
#include <Poco/JSON/Object.h>
#include <yaml-cpp/yaml.h>

namespace crossover::kube {

// Parses a JSON object; throws crossover::Error (`what` names the source).
Poco::JSON::Object::Ptr parse_object(const std::string& text, const std::string& what);

// Converts a JSON value into an equivalent YAML tree.
YAML::Node to_yaml(const Poco::Dynamic::Var& value);

// A nested member as a string ("" when absent or not a scalar).
std::string get_string(const Poco::JSON::Object::Ptr& obj, const std::string& key);
std::string metadata_field(const Poco::JSON::Object::Ptr& obj, const std::string& key);

// Serialises an object to compact JSON.
std::string to_json(const Poco::JSON::Object::Ptr& obj);

}  // namespace crossover::kube
