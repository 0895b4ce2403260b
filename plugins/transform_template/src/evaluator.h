// Executes a parsed template against data. Bounded: output size, work done
// and template-call depth all have limits, each reported with a clear error.
#pragma once

#include <cstddef>
#include <string>

#include "ast.h"
#include "value.h"

namespace crossover::tmpl {

struct ExecLimits {
    std::size_t max_output = 16u << 20;  // bytes of output (and of any string built)
    std::size_t max_steps = 10'000'000;  // actions, range iterations and calls
    std::size_t max_call_depth = 64;     // nested {{template}} / include calls
};

// Renders `tmpl` with `data` as both `.` and `$`. Throws TemplateError.
std::string execute(const Template& tmpl, const Value& data, const ExecLimits& limits = {});

}  // namespace crossover::tmpl
