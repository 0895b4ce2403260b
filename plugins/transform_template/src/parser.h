// Builds the AST from template text. Every error is a TemplateError carrying
// the line and column where the problem is.
#pragma once

#include <cstddef>
#include <string_view>

#include "ast.h"

namespace crossover::tmpl {

struct ParseLimits {
    std::size_t max_nesting = 100;  // nested control structures and parentheses
};

Template parse(std::string_view text, const ParseLimits& limits = {});

}  // namespace crossover::tmpl
