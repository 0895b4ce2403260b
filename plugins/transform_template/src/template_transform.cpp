#include "template_transform.h"

#include <fnmatch.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <tuple>
#include <utility>

#include "crossover/files.h"
#include "crossover/inputs.h"
#include "crossover/yaml_load.h"
#include "data.h"
#include "parser.h"

namespace crossover::tmpl {

const OptionSpec kTemplateOptions[] = {
    {"match", OptionType::String, "'*.tmpl'", false,
     "glob selecting the documents to render; others pass through untouched"},
    {"strip_suffix", OptionType::String, "'.tmpl'", false,
     "removed from a rendered document's name (\"rds.yaml.tmpl\" -> \"rds.yaml\")"},
    {"values", OptionType::Any, nullptr, false,
     "inline map available as .Values (merged over values_file)"},
    {"values_file", OptionType::String, nullptr, false,
     "YAML file (relative to the pipeline file) read once at start as .Values"},
    {"env", OptionType::StringList, nullptr, false,
     "environment variables templates may read as .Env.NAME; no others are visible"},
    {"namespace", OptionType::String, nullptr, false,
     ".Namespace; defaults to $POD_NAMESPACE (empty when unset)"},
    {"max_output_bytes", OptionType::Int, "16777216", false,
     "a template whose output (or any string it builds) grows beyond this fails"},
    {"max_steps", OptionType::Int, "10000000", false,
     "a template that evaluates more actions, loop iterations and calls than this fails"},
};
const std::size_t kTemplateOptionCount = sizeof(kTemplateOptions) / sizeof(kTemplateOptions[0]);

namespace {

std::string option_or(const ComponentConfig& config, const std::string& key,
                      const std::string& fallback) {
    return config.has(key) ? config.get_string(key) : fallback;
}

std::int64_t positive_int(const ComponentConfig& config, const std::string& key,
                          std::int64_t fallback) {
    if (!config.has(key)) {
        return fallback;
    }
    const std::int64_t v = config.get_int(key);
    if (v <= 0) {
        throw Error(config.where(key) + "must be a positive integer, got " + std::to_string(v));
    }
    return v;
}

}  // namespace

TemplateTransform::TemplateTransform(const ComponentConfig& config) : name_(config.name) {
    match_ = option_or(config, "match", "*.tmpl");
    if (match_.empty()) {
        throw Error(config.where("match") + "must not be empty");
    }
    strip_suffix_ = option_or(config, "strip_suffix", ".tmpl");
    limits_.max_output =
        static_cast<std::size_t>(positive_int(config, "max_output_bytes", 16 << 20));
    limits_.max_steps = static_cast<std::size_t>(positive_int(config, "max_steps", 10'000'000));

    Value values = Value::map({});
    if (config.has("values_file")) {
        const std::string path = config.get_path("values_file");
        std::string problem;
        const auto text = read_regular_file(path, problem);
        if (!text) {
            throw Error(config.where("values_file") + "cannot read " + path + ": " + problem);
        }
        YAML::Node file;
        try {
            file = load_yaml(*text);
        } catch (const YAML::Exception& e) {
            throw Error(config.where("values_file") + path + ": line " +
                        std::to_string(e.mark.line + 1) + ": " + e.msg);
        }
        if (file && !file.IsNull()) {
            if (!file.IsMap()) {
                throw Error(config.where("values_file") + path + ": expected a map at the top");
            }
            values = from_yaml(file, path);
        }
    }
    if (config.has("values")) {
        const YAML::Node inline_values = config.get("values");
        if (!inline_values.IsMap()) {
            throw Error(config.where("values") + "expected a map, got " +
                        detail::yaml_kind(inline_values));
        }
        values = merge_values(values, from_yaml(inline_values, config.where("values")));
    }
    values_ = values;
    env_ = env_value(config.get_string_list("env"));
    if (config.has("namespace")) {
        namespace_ = config.get_string("namespace");
    } else if (const char* ns = std::getenv("POD_NAMESPACE"); ns != nullptr) {
        namespace_ = ns;
    }
}

bool TemplateTransform::matches(const std::string& name) const {
    return fnmatch(match_.c_str(), name.c_str(), 0) == 0;
}

std::string TemplateTransform::output_name(const std::string& name) const {
    if (!strip_suffix_.empty() && name.size() > strip_suffix_.size() &&
        name.compare(name.size() - strip_suffix_.size(), strip_suffix_.size(), strip_suffix_) ==
            0) {
        return name.substr(0, name.size() - strip_suffix_.size());
    }
    return name;
}

std::shared_ptr<const Template> TemplateTransform::parsed(const Document& doc) {
    const auto it = cache_.find(doc.content);
    if (it != cache_.end()) {
        it->second.last_used = run_;
        return it->second.tmpl;
    }
    ++parses_;
    auto tmpl = std::make_shared<const Template>(parse(doc.content));
    cache_.emplace(doc.content, CacheEntry{tmpl, run_});
    return tmpl;
}

Status TemplateTransform::transform(const std::vector<Input>& inputs,
                                    SnapshotPtr& output) noexcept {
    return guard([&] { return run(inputs, output); });
}

Status TemplateTransform::run(const std::vector<Input>& inputs, SnapshotPtr& output) {
    ++run_;
    // The union's documents are the templates and pass-throughs; the output's are rebuilt below.
    auto out = std::make_shared<Snapshot>(union_of(inputs));
    const std::vector<DocumentPtr> documents = std::exchange(out->documents, {});

    bool any_template = false;
    for (const auto& d : documents) {
        if (matches(d->name)) {
            any_template = true;
            break;
        }
    }
    Value data;
    if (any_template) {
        data = Value::map(Map{{"Values", values_},
                              {"TrafficSplits", trafficsplits_value(out->objects)},
                              {"ConfigMaps", configmaps_value(documents)},
                              {"Env", env_},
                              {"Namespace", Value::string(namespace_)}});
    }

    std::map<std::string, std::string> produced_by;  // output name -> template name
    for (const auto& d : documents) {
        if (!matches(d->name)) {
            out->documents.push_back(d);
            const auto [it, inserted] = produced_by.emplace(d->name, std::string());
            if (!inserted) {
                throw Error("template '" + it->second + "' renders to '" + d->name +
                            "', which an input document also provides");
            }
            continue;
        }
        const std::string target = output_name(d->name);
        std::string rendered;
        try {
            const auto tmpl = parsed(*d);
            rendered = execute(*tmpl, data, limits_);
        } catch (const TemplateError& e) {
            const std::string from = d->origin.kind.empty() ? "" : d->origin.describe() + ": ";
            throw Error(from + e.format(d->name));
        }
        auto doc = std::make_shared<Document>();
        doc->name = target;
        doc->content = std::move(rendered);
        doc->origin = d->origin;
        out->documents.push_back(std::move(doc));
        const auto [it, inserted] = produced_by.emplace(target, d->name);
        if (!inserted) {
            throw Error("template '" + d->name + "' renders to '" + target + "', which " +
                        (it->second.empty() ? std::string("an input document")
                                            : "template '" + it->second + "'") +
                        " also provides");
        }
    }
    std::sort(out->documents.begin(), out->documents.end(),
              [](const DocumentPtr& a, const DocumentPtr& b) { return a->name < b->name; });

    // Keep only the templates used by this run.
    for (auto it = cache_.begin(); it != cache_.end();) {
        if (it->second.last_used != run_) {
            it = cache_.erase(it);
        } else {
            ++it;
        }
    }
    output = std::move(out);
    return Status::ok();
}

}  // namespace crossover::tmpl
