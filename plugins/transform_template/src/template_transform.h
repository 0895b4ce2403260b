// The `template` transform: renders documents whose names match a glob as
// Helm-style Go templates; every other document and object passes through.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "ast.h"
#include "crossover/sdk.h"
#include "evaluator.h"
#include "value.h"

namespace crossover::tmpl {

struct TemplateOptions {
    std::string match = "*.tmpl";
    std::string strip_suffix = ".tmpl";
    YAML::Node values;
    std::string values_file;
    std::vector<std::string> env;
    std::optional<std::string> ns;
    std::int64_t max_output_bytes = 16 << 20;
    std::int64_t max_steps = 10'000'000;
};

extern const OptionTable<TemplateOptions> kTemplateOptions;

class TemplateTransform : public Transform {
public:
    TemplateTransform(const ComponentConfig& config, const TemplateOptions& options);

    Status transform(const std::vector<Input>& inputs, SnapshotPtr& output) noexcept override;

    // For tests: how many templates were parsed, and how many are cached.
    [[nodiscard]] std::size_t parse_count() const noexcept { return parses_; }
    [[nodiscard]] std::size_t cache_size() const noexcept { return cache_.size(); }

private:
    Status run(const std::vector<Input>& inputs, SnapshotPtr& output);
    std::shared_ptr<const Template> parsed(const Document& doc);
    [[nodiscard]] bool matches(const std::string& name) const;
    [[nodiscard]] std::string output_name(const std::string& name) const;

    std::string name_;
    std::string match_;
    std::string strip_suffix_;
    Value values_;
    Value env_;
    std::string namespace_;
    ExecLimits limits_;

    struct CacheEntry {
        std::shared_ptr<const Template> tmpl;
        std::uint64_t last_used = 0;
    };
    std::unordered_map<std::string, CacheEntry> cache_;  // keyed by content (hashed)
    std::uint64_t run_ = 0;
    std::size_t parses_ = 0;
};

}  // namespace crossover::tmpl
