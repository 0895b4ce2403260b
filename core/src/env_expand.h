// ${VAR} and ${VAR:-default} expansion for pipeline files.
#pragma once

#include <functional>
#include <optional>
#include <string>

namespace crossover::core {

using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;

// The process environment.
std::optional<std::string> process_env(const std::string& name);

// Expands every ${NAME} and ${NAME:-default} in `text`; `$$` is a literal `$`.
// Returns false and sets `error` for an unset variable without a default or a
// malformed reference.
bool expand_env(const std::string& text, const EnvLookup& lookup, std::string& out,
                std::string& error);

}  // namespace crossover::core
