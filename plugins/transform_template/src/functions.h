// The functions templates can call. None reads files, the environment or
// the network: the only data a template sees is what it is given.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "value.h"

namespace crossover::tmpl {

struct CallContext {
    Pos pos;                 // position of the function name
    std::string name;        // the function's name, for messages
    std::size_t max_string;  // results longer than this are refused
};

using FunctionFn = Value (*)(const CallContext& ctx, std::vector<Value>& args);

struct FunctionInfo {
    const char* name;
    FunctionFn fn;
    int min_args;
    int max_args;  // -1: variadic
    // True when the function accepts missing values (default, empty, ...);
    // other functions report a missing argument's lookup error.
    bool accepts_missing;
};

// nullptr when `name` is not a table function.
const FunctionInfo* find_function(std::string_view name);

// Functions the evaluator implements itself (they short-circuit or need the
// template): and, or, include.
bool is_special_function(std::string_view name);

// True for every name a template may call.
bool function_exists(std::string_view name);

// Names of every function, sorted (for documentation and tests).
std::vector<std::string> function_names();

// Helpers shared with the evaluator.
std::string go_quote(const std::string& s);
std::string to_yaml(const Value& v);  // block YAML, no trailing newline
std::string to_json(const Value& v);  // compact JSON, keys sorted

}  // namespace crossover::tmpl
