#include "pipeline_config.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>

#include "crossover/files.h"
#include "crossover/yaml_load.h"
#include "plugin_registry.h"
#include "suggest.h"

namespace crossover::core {

namespace {

int line_of(const YAML::Node& node) {
    if (!node || node.Mark().is_null()) {
        return 0;
    }
    return node.Mark().line + 1;
}

bool valid_component_name(const std::string& name) {
    if (name.empty() || name.size() > 128) {
        return false;
    }
    return std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_' || c == '-' || c == '.';
    });
}

// Where a component's option is written: its value's line, else its key's,
// else the component's.
int option_line(const ComponentSpec& c, const std::string& key) {
    const YAML::Node value = c.options[key];
    if (value && line_of(value) > 0) {
        return line_of(value);
    }
    const auto at = c.option_lines.find(key);
    return at != c.option_lines.end() ? at->second : c.line;
}

// An option given under an older name is read under its current one.
void rename_aliases(const std::string& file, const OptionSpec& o, ComponentSpec& c,
                    std::vector<ConfigError>& errors) {
    for (const char* const* a = o.aliases; a != nullptr && *a != nullptr; ++a) {
        if (!c.options[*a]) {
            continue;
        }
        if (c.options[o.name]) {
            errors.push_back(ConfigError{file, option_line(c, *a), c.path, *a,
                                         "is an older name of '" + std::string(o.name) +
                                             "', which is also given: keep one"});
            continue;
        }
        c.options[o.name] = c.options[*a];
        if (const auto at = c.option_lines.find(*a); at != c.option_lines.end()) {
            c.option_lines[o.name] = at->second;
        }
        c.options.remove(*a);
    }
}

// Checks the options of a component (or of the `engine:`/`server:` block,
// `type` empty) against its table: unknown names, types, ranges, choices,
// the table's own checks; fills in defaults.
void check_options(const std::string& file, const OptionSpec* specs, std::size_t count,
                   ComponentSpec& c, std::vector<ConfigError>& errors) {
    std::vector<std::string> known;
    for (std::size_t i = 0; i < count; ++i) {
        known.emplace_back(specs[i].name);
        for (const char* const* a = specs[i].aliases; a != nullptr && *a != nullptr; ++a) {
            known.emplace_back(*a);
        }
    }
    for (const auto& kv : c.options) {
        const std::string key = kv.first.Scalar();
        if (std::find(known.begin(), known.end(), key) == known.end()) {
            const auto at = c.option_lines.find(key);
            errors.push_back(
                ConfigError{file, at != c.option_lines.end() ? at->second : c.line, c.path, key,
                            (c.type.empty() ? std::string("unknown option")
                                            : "unknown option for type '" + c.type + "'") +
                                suggest(key, known)});
        }
    }
    for (std::size_t i = 0; i < count; ++i) {
        const OptionSpec& o = specs[i];
        rename_aliases(file, o, c, errors);
        YAML::Node value = c.options[o.name];
        if (!value || value.IsNull()) {
            if (o.required) {
                errors.push_back(
                    ConfigError{file, c.line, c.path, o.name,
                                "missing required option (" + std::string(o.doc) + ")"});
            } else if (o.default_value != nullptr) {
                try {
                    c.options[o.name] = YAML::Load(o.default_value);
                } catch (const YAML::Exception& e) {
                    errors.push_back(
                        ConfigError{file, c.line, c.path, o.name, "invalid default: " + e.msg});
                }
            }
            continue;
        }
        std::string why;
        if (!check_option(o, value, why)) {
            errors.push_back(ConfigError{file, option_line(c, o.name), c.path, o.name, why});
        }
    }
}

// Checks and decodes the `engine:` or `server:` block with its table.
template <typename T>
bool decode_block(const std::string& file, const YAML::Node& block, const std::string& name,
                  const OptionTable<T>& table, T& out, std::vector<ConfigError>& errors) {
    if (!block.IsMap()) {
        errors.push_back(ConfigError{file, line_of(block), name, "",
                                     "expected a map, got " + describe_value(block)});
        return false;
    }
    ComponentSpec c;
    c.name = name;
    c.path = name;
    c.line = line_of(block);
    c.options = block;
    for (const auto& kv : block) {
        c.option_lines[kv.first.Scalar()] = line_of(kv.first);
    }
    const std::size_t before = errors.size();
    check_options(file, table.specs(), table.size(), c, errors);
    if (errors.size() != before) {
        return false;
    }
    ComponentConfig config;
    config.name = name;
    config.path = name;
    config.file = file;
    config.line = c.line;
    config.options = c.options;
    try {
        out = table.decode(config);
    } catch (const Error& e) {
        errors.push_back(ConfigError{"", 0, "", "", e.what()});
        return false;
    }
    return true;
}

class Parser {
public:
    Parser(std::string file, const EnvLookup& env, std::vector<ConfigError>& errors)
        : file_(std::move(file)), env_(env), errors_(errors) {}

    void error(const YAML::Node& at, const std::string& component, const std::string& option,
               const std::string& message) {
        errors_.push_back(ConfigError{file_, line_of(at), component, option, message});
    }

    // Expands ${VAR} in every scalar value (not keys) below `node`.
    void expand(YAML::Node node, const std::string& component, const std::string& option) {
        if (node.IsScalar()) {
            const std::string& text = node.Scalar();
            if (text.find('$') == std::string::npos) {
                return;
            }
            std::string out;
            std::string err;
            if (!expand_env(text, env_, out, err)) {
                error(node, component, option, err);
                return;
            }
            node = out;
        } else if (node.IsSequence()) {
            for (auto item : node) {
                expand(item, component, option);
            }
        } else if (node.IsMap()) {
            for (auto kv : node) {
                expand(kv.second, component, option);
            }
        }
    }

    std::vector<std::string> string_list(const YAML::Node& node, const std::string& component,
                                         const std::string& option) {
        std::vector<std::string> out;
        if (node.IsScalar()) {
            out.push_back(node.Scalar());
        } else if (node.IsSequence()) {
            for (const auto& item : node) {
                if (!item.IsScalar()) {
                    error(item, component, option, "expected a list of strings");
                    continue;
                }
                out.push_back(item.Scalar());
            }
        } else if (!node.IsNull()) {
            error(node, component, option,
                  "expected a list of strings, got " + describe_value(node));
        }
        return out;
    }

    void parse_engine(const YAML::Node& engine, EngineSpec& spec) {
        expand(engine, "engine", "");
        if (!decode_block(file_, engine, "engine", engine_options(), spec, errors_)) {
            return;
        }
        const auto at = [&engine](const char* key) { return engine[key] ? engine[key] : engine; };
        if (spec.max_delay < spec.debounce) {
            error(at("max_delay"), "engine", "max_delay", "must not be shorter than debounce");
        }
        if (spec.retry_max < spec.retry_initial) {
            error(at("retry_max"), "engine", "retry_max", "must not be shorter than retry_initial");
        }
    }

    void parse_section(const YAML::Node& section, const std::string& section_name, Kind kind,
                       PipelineSpec& spec) {
        if (!section || section.IsNull()) {
            return;
        }
        if (!section.IsMap()) {
            error(section, section_name, "",
                  "expected a map of named components, got " + describe_value(section));
            return;
        }
        for (const auto& kv : section) {
            ComponentSpec c;
            c.kind = kind;
            c.name = kv.first.Scalar();
            c.path = section_name + "." + c.name;
            c.line = line_of(kv.first);
            const YAML::Node body = kv.second;
            if (!valid_component_name(c.name)) {
                error(kv.first, c.path, "",
                      "invalid component name: use letters, digits, '_', '-' and '.'");
                continue;
            }
            if (const ComponentSpec* other = spec.find(c.name)) {
                error(kv.first, c.path, "",
                      "duplicate component name; '" + c.name + "' is already used by " +
                          other->path + " (line " + std::to_string(other->line) + ")");
                continue;
            }
            if (!body.IsMap()) {
                error(body, c.path, "",
                      "expected a map with 'type:' and options, got " + describe_value(body));
                continue;
            }
            c.options = YAML::Node(YAML::NodeType::Map);
            bool has_inputs = false;
            for (const auto& opt : body) {
                const std::string key = opt.first.Scalar();
                if (key == "type") {
                    if (!opt.second.IsScalar() || opt.second.Scalar().empty()) {
                        error(opt.second, c.path, "type", "expected a plugin type name");
                    } else {
                        c.type = opt.second.Scalar();
                        c.type_line = line_of(opt.second);
                    }
                } else if (key == "inputs") {
                    has_inputs = true;
                    expand(opt.second, c.path, "inputs");
                    c.inputs = string_list(opt.second, c.path, "inputs");
                    for (std::size_t i = 0; i < c.inputs.size(); ++i) {
                        c.input_lines.push_back(opt.second.IsSequence() ? line_of(opt.second[i])
                                                                        : line_of(opt.second));
                    }
                    if (kind == Kind::Source) {
                        error(opt.first, c.path, "inputs", "a source takes no inputs");
                    }
                } else {
                    expand(opt.second, c.path, key);
                    c.options[key] = opt.second;
                    c.option_lines[key] = line_of(opt.first);
                }
            }
            if (c.type.empty() && !body["type"]) {
                error(kv.first, c.path, "type", "missing 'type:' (the plugin to use)");
            }
            if (kind != Kind::Source && (!has_inputs || c.inputs.empty())) {
                error(kv.first, c.path, "inputs",
                      std::string("a ") + kind_name(kind) +
                          " needs 'inputs:' naming at least one source or transform");
            }
            spec.components.push_back(std::move(c));
        }
    }

    PipelineSpec parse(const YAML::Node& root) {
        PipelineSpec spec;
        spec.file = file_;
        if (!root || root.IsNull()) {
            error(root, "", "", "the pipeline file is empty");
            return spec;
        }
        if (!root.IsMap()) {
            error(root, "", "", "expected a map with sources, transforms and sinks");
            return spec;
        }
        static const std::vector<std::string> known = {
            "plugin_dirs", "plugins", "engine", "server", "sources", "transforms", "sinks"};
        for (const auto& kv : root) {
            const std::string key = kv.first.Scalar();
            if (std::find(known.begin(), known.end(), key) == known.end()) {
                error(kv.first, key, "", "unknown top-level key" + suggest(key, known));
            }
        }
        if (root["plugin_dirs"]) {
            YAML::Node n = root["plugin_dirs"];
            expand(n, "plugin_dirs", "");
            spec.plugin_dirs = string_list(n, "plugin_dirs", "");
        }
        if (root["plugins"]) {
            YAML::Node n = root["plugins"];
            expand(n, "plugins", "");
            spec.plugins = string_list(n, "plugins", "");
        }
        if (root["engine"]) {
            parse_engine(root["engine"], spec.engine);
        }
        if (root["server"]) {
            YAML::Node server = root["server"];
            expand(server, "server", "");
            decode_block(file_, server, "server", server_options(), spec.server, errors_);
        }
        parse_section(root["sources"], "sources", Kind::Source, spec);
        parse_section(root["transforms"], "transforms", Kind::Transform, spec);
        parse_section(root["sinks"], "sinks", Kind::Sink, spec);
        const bool has_sink = std::any_of(spec.components.begin(), spec.components.end(),
                                          [](const auto& c) { return c.kind == Kind::Sink; });
        const bool has_source = std::any_of(spec.components.begin(), spec.components.end(),
                                            [](const auto& c) { return c.kind == Kind::Source; });
        if (!has_source) {
            error(root, "sources", "", "the pipeline has no sources");
        }
        if (!has_sink) {
            error(root, "sinks", "", "the pipeline has no sinks");
        }
        return spec;
    }

private:
    std::string file_;
    const EnvLookup& env_;
    std::vector<ConfigError>& errors_;
};

}  // namespace

std::string ConfigError::format() const {
    std::string out;
    if (!file.empty()) {
        out += file;
        if (line > 0) {
            out += ":" + std::to_string(line);
        }
        out += ": ";
    }
    if (!component.empty()) {
        out += component + ": ";
    }
    if (!option.empty()) {
        out += "option '" + option + "': ";
    }
    out += message;
    return out;
}

const ComponentSpec* PipelineSpec::find(const std::string& name) const {
    for (const auto& c : components) {
        if (c.name == name) {
            return &c;
        }
    }
    return nullptr;
}

PipelineSpec parse_pipeline_text(const std::string& text, const std::string& file,
                                 const EnvLookup& env, std::vector<ConfigError>& errors) {
    YAML::Node root;
    try {
        // The limits keep every later walk over the tree (expansion,
        // validation, plugins) bounded; no pipeline file comes near them. A
        // key given twice would silently lose one of its values.
        YamlLimits limits;
        limits.refuse_duplicate_keys = true;
        root = load_yaml(text, limits);
    } catch (const YAML::Exception& e) {
        errors.push_back(ConfigError{file, e.mark.is_null() ? 0 : e.mark.line + 1, "", "",
                                     "invalid YAML: " + e.msg});
        PipelineSpec spec;
        spec.file = file;
        return spec;
    }
    Parser parser(file, env, errors);
    PipelineSpec spec = parser.parse(root);
    std::filesystem::path base = std::filesystem::path(file).parent_path();
    if (base.empty()) {
        base = ".";
    }
    std::error_code ec;
    const auto abs = std::filesystem::absolute(base, ec);
    spec.base_dir = (ec ? base : abs).lexically_normal().string();
    return spec;
}

PipelineSpec parse_pipeline_file(const std::string& path, const EnvLookup& env,
                                 std::vector<ConfigError>& errors) {
    std::string problem;
    const auto text = read_regular_file(path, problem);
    if (!text) {
        errors.push_back(ConfigError{path, 0, "", "", "cannot read the pipeline file: " + problem});
        PipelineSpec spec;
        spec.file = path;
        return spec;
    }
    return parse_pipeline_text(*text, path, env, errors);
}

namespace {

// Each component's type names a loaded plugin, and its options fit that
// plugin's table.
void check_component_types(PipelineSpec& spec, const PluginRegistry& registry,
                           std::vector<ConfigError>& errors) {
    for (auto& c : spec.components) {
        if (c.type.empty()) {
            continue;  // already reported
        }
        const LoadedPlugin* plugin = registry.find(c.kind, c.type);
        if (plugin == nullptr) {
            errors.push_back(
                ConfigError{spec.file, c.type_line > 0 ? c.type_line : c.line, c.path, "type",
                            "unknown " + std::string(kind_name(c.kind)) + " type '" + c.type + "'" +
                                suggest(c.type, registry.names(c.kind))});
            continue;
        }
        const PluginDescriptor& d = *plugin->descriptor;
        check_options(spec.file, d.options, d.option_count, c, errors);
    }
}

// Each input names, once, an existing source or transform other than the
// component itself.
void check_inputs(const PipelineSpec& spec, std::vector<ConfigError>& errors) {
    for (const auto& c : spec.components) {
        std::set<std::string> seen;
        for (std::size_t i = 0; i < c.inputs.size(); ++i) {
            const std::string& in = c.inputs[i];
            const int line =
                i < c.input_lines.size() && c.input_lines[i] > 0 ? c.input_lines[i] : c.line;
            const ComponentSpec* target = spec.find(in);
            if (!seen.insert(in).second) {
                errors.push_back(ConfigError{spec.file, line, c.path, "inputs",
                                             "input '" + in + "' is listed twice"});
            } else if (target == nullptr) {
                std::vector<std::string> names;
                for (const auto& o : spec.components) {
                    if (o.kind != Kind::Sink) {
                        names.push_back(o.name);
                    }
                }
                errors.push_back(ConfigError{spec.file, line, c.path, "inputs",
                                             "unknown input '" + in + "'" + suggest(in, names)});
            } else if (target->kind == Kind::Sink) {
                errors.push_back(ConfigError{spec.file, line, c.path, "inputs",
                                             "input '" + in +
                                                 "' is a sink; sinks produce no "
                                                 "output to read"});
            } else if (target->name == c.name) {
                errors.push_back(ConfigError{spec.file, line, c.path, "inputs",
                                             "a component cannot be its own input"});
            }
        }
    }
}

// Transforms that feed each other in a cycle: depth-first search with colours.
void check_cycles(const PipelineSpec& spec, std::vector<ConfigError>& errors) {
    std::map<std::string, int> colour;
    std::vector<std::string> stack;
    std::set<std::string> reported;
    std::function<void(const ComponentSpec&)> visit = [&](const ComponentSpec& c) {
        colour[c.name] = 1;
        stack.push_back(c.name);
        for (const auto& in : c.inputs) {
            const ComponentSpec* t = spec.find(in);
            if (t == nullptr || t->kind != Kind::Transform || t->name == c.name) {
                continue;
            }
            if (colour[t->name] == 1) {
                std::string cycle;
                auto it = std::find(stack.begin(), stack.end(), t->name);
                for (; it != stack.end(); ++it) {
                    cycle += *it + " -> ";
                }
                cycle += t->name;
                if (reported.insert(t->name).second) {
                    errors.push_back(ConfigError{spec.file, t->line, t->path, "inputs",
                                                 "inputs form a cycle: " + cycle});
                }
            } else if (colour[t->name] == 0) {
                visit(*t);
            }
        }
        stack.pop_back();
        colour[c.name] = 2;
    };
    for (const auto& c : spec.components) {
        if (c.kind == Kind::Transform && colour[c.name] == 0) {
            visit(c);
        }
    }
}

}  // namespace

void validate_pipeline(PipelineSpec& spec, const PluginRegistry& registry,
                       std::vector<ConfigError>& errors) {
    check_component_types(spec, registry, errors);
    check_inputs(spec, errors);
    check_cycles(spec, errors);
}

std::vector<const ComponentSpec*> topological_order(const PipelineSpec& spec) {
    std::vector<const ComponentSpec*> out;
    std::set<std::string> done;
    std::function<void(const ComponentSpec&)> visit = [&](const ComponentSpec& c) {
        if (done.count(c.name) != 0) {
            return;
        }
        done.insert(c.name);
        for (const auto& in : c.inputs) {
            if (const ComponentSpec* t = spec.find(in)) {
                visit(*t);
            }
        }
        out.push_back(&c);
    };
    for (const auto& c : spec.components) {
        visit(c);
    }
    return out;
}

std::string to_yaml(const PipelineSpec& spec) {
    YAML::Emitter out;
    out << YAML::BeginMap;
    if (!spec.plugin_dirs.empty()) {
        out << YAML::Key << "plugin_dirs" << YAML::Value << YAML::Flow << spec.plugin_dirs;
    }
    out << YAML::Key << "engine" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "debounce" << YAML::Value
        << (std::to_string(spec.engine.debounce.count()) + "ms");
    out << YAML::Key << "max_delay" << YAML::Value
        << (std::to_string(spec.engine.max_delay.count()) + "ms");
    out << YAML::EndMap;
    const std::pair<Kind, const char*> sections[] = {
        {Kind::Source, "sources"}, {Kind::Transform, "transforms"}, {Kind::Sink, "sinks"}};
    for (const auto& [kind, section] : sections) {
        bool any = false;
        for (const auto& c : spec.components) {
            if (c.kind != kind) {
                continue;
            }
            if (!any) {
                out << YAML::Key << section << YAML::Value << YAML::BeginMap;
                any = true;
            }
            out << YAML::Key << c.name << YAML::Value << YAML::BeginMap;
            out << YAML::Key << "type" << YAML::Value << c.type;
            if (!c.inputs.empty()) {
                out << YAML::Key << "inputs" << YAML::Value << YAML::Flow << c.inputs;
            }
            for (const auto& kv : c.options) {
                out << YAML::Key << kv.first << YAML::Value << kv.second;
            }
            out << YAML::EndMap;
        }
        if (any) {
            out << YAML::EndMap;
        }
    }
    out << YAML::EndMap;
    return std::string(out.c_str()) + "\n";
}

}  // namespace crossover::core
