// Shared helpers for the template engine tests.
#pragma once

#include <string>

#include <yaml-cpp/yaml.h>

#include "evaluator.h"
#include "parser.h"
#include "value.h"

namespace tt {

inline crossover::tmpl::Value data(const std::string& yaml) {
    return crossover::tmpl::from_yaml(YAML::Load(yaml));
}

inline std::string render(const std::string& text, const crossover::tmpl::Value& d = {},
                          const crossover::tmpl::ExecLimits& limits = {}) {
    const auto t = crossover::tmpl::parse(text);
    return crossover::tmpl::execute(t, d, limits);
}

inline std::string render(const std::string& text, const std::string& yaml) {
    return render(text, data(yaml));
}

// The formatted error ("t.tmpl:L:C: message"), or "no error: <output>".
inline std::string error_of(const std::string& text, const crossover::tmpl::Value& d = {},
                            const crossover::tmpl::ExecLimits& limits = {}) {
    try {
        return "no error: " + render(text, d, limits);
    } catch (const crossover::tmpl::TemplateError& e) {
        return e.format("t.tmpl");
    }
}

inline std::string error_of(const std::string& text, const std::string& yaml) {
    return error_of(text, data(yaml));
}

}  // namespace tt
