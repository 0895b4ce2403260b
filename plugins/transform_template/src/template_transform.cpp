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

namespace {

bool check_map(const YAML::Node& value, std::string& why) {
    if (!value.IsMap()) {
        why = "expected a map, got " + describe_value(value);
        return false;
    }
    return true;
}

}  // namespace

const OptionTable<TemplateOptions> kTemplateOptions{
    option("match", &TemplateOptions::match,
           "glob selecting the documents to render; others pass through untouched")
        .check(checks::not_empty),
    option("strip_suffix", &TemplateOptions::strip_suffix,
           "removed from a rendered document's name (\"rds.yaml.tmpl\" -> \"rds.yaml\")"),
    option("values", &TemplateOptions::values,
           "inline map available as .Values (merged over values_file)")
        .check(check_map),
    option("values_file", &TemplateOptions::values_file, "YAML file read once at start as .Values")
        .path(),
    option("env", &TemplateOptions::env,
           "environment variables templates may read as .Env.NAME; no others are visible"),
    option("namespace", &TemplateOptions::ns,
           ".Namespace; defaults to $POD_NAMESPACE (empty when unset)"),
    option("max_output_bytes", &TemplateOptions::max_output_bytes,
           "a template whose output (or any string it builds) grows beyond this fails")
        .at_least(1),
    option("max_steps", &TemplateOptions::max_steps,
           "a template that evaluates more actions, loop iterations and calls than this fails")
        .at_least(1),
};

TemplateTransform::TemplateTransform(const ComponentConfig& config, const TemplateOptions& options)
    : name_(config.name), match_(options.match), strip_suffix_(options.strip_suffix) {
    limits_.max_output = static_cast<std::size_t>(options.max_output_bytes);
    limits_.max_steps = static_cast<std::size_t>(options.max_steps);

    Value values = Value::map({});
    if (!options.values_file.empty()) {
        const std::string& path = options.values_file;
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
    if (options.values && options.values.IsMap()) {
        values = merge_values(values, from_yaml(options.values, config.where("values")));
    }
    values_ = values;
    env_ = env_value(options.env);
    if (options.ns) {
        namespace_ = *options.ns;
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
