#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "functions.h"
#include "value.h"

namespace crossover::tmpl {

// Formats args[first_arg..] with a Go fmt format. Throws TemplateError.
std::string go_printf(const CallContext& ctx, const std::string& format,
                      const std::vector<Value>& args, std::size_t first_arg);

}  // namespace crossover::tmpl
