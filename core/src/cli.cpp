#include "cli.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "engine.h"
#include "legacy_cli.h"
#include "logger.h"
#include "paths.h"
#include "pipeline_config.h"
#include "plugin_registry.h"
#include "suggest.h"

namespace crossover::core {

namespace {

const char* kUsage =
    "crossover " CROSSOVER_VERSION
    " - Envoy configuration from Kubernetes, live\n"
    "\n"
    "Usage:\n"
    "  crossover run FILE [options]        run the pipeline described in FILE\n"
    "  crossover --pipeline FILE [options] same as 'run FILE'\n"
    "  crossover validate FILE             check FILE and the plugins it needs; exit 0 or 1\n"
    "  crossover plugins [--markdown]      list the plugins with their options\n"
    "  crossover [original flags]          drop-in command line of the original crossover\n"
    "                                      (see 'crossover --help-legacy')\n"
    "  crossover version | --version      print the version\n"
    "  crossover help | --help            print this help\n"
    "\n"
    "Options:\n"
    "  --onetime              run the pipeline once and exit: 0 only if every sink wrote\n"
    "  --dry-run              print the output instead of running the sinks\n"
    "                         (both also as --onetime=true|false, -onetime=true, ...)\n"
    "  --log-level LEVEL      debug, info (default), warn, error\n"
    "  --log-format FORMAT    text (default) or json\n"
    "  --plugin-dir DIR       also load plugins from DIR (repeatable)\n"
    "  --listen ADDR          serve /healthz, /readyz, /metrics (default 0.0.0.0:9090 when\n"
    "                         watching, off with --onetime; 'off' disables)\n"
    "\n"
    "Signals: SIGTERM/SIGINT stop cleanly; SIGHUP re-reads the pipeline file.\n";

struct CommonOptions {
    bool onetime = false;
    bool dry_run = false;
    LogLevel level = LogLevel::Info;
    LogFormat format = LogFormat::Text;
    std::vector<std::string> plugin_dirs;
    bool markdown = false;
    std::optional<std::string> listen;
};

// Accepts --name value, --name=value and the single-dash forms the original
// (Go flag package) accepted.
class ArgReader {
public:
    ArgReader(int argc, char** argv) : args_(argv + 1, argv + argc) {}
    [[nodiscard]] bool done() const { return pos_ >= args_.size(); }
    std::string next() { return args_[pos_++]; }
    std::optional<std::string> value_for(const std::string& flag, const std::string& inline_value,
                                         bool has_inline) {
        if (has_inline) {
            return inline_value;
        }
        if (done()) {
            print_usage_error("flag " + flag + " needs a value");
            return std::nullopt;
        }
        return next();
    }

private:
    std::vector<std::string> args_;
    std::size_t pos_ = 0;
};

const std::vector<std::string> kCommands = {"run", "validate", "plugins", "help", "version"};

void print_version() {
    std::cout << "crossover " << CROSSOVER_VERSION << " (plugin ABI " << CROSSOVER_ABI_VERSION
              << ")\n";
}

// --onetime, --onetime=true, -onetime=false: Go's flag package allowed a
// value on boolean flags, and init containers written for the original use it.
bool bool_flag(const std::string& arg, const std::string& value, bool has_value, bool& out) {
    if (!has_value) {
        out = true;
        return true;
    }
    if (parse_go_bool(value, out)) {
        return true;
    }
    print_usage_error("flag " + arg + " expects true or false");
    return false;
}

bool split_flag(const std::string& arg, std::string& name, std::string& value, bool& has_value) {
    if (arg.size() < 2 || arg[0] != '-') {
        return false;
    }
    std::string body = arg.substr(arg[1] == '-' ? 2 : 1);
    const auto eq = body.find('=');
    has_value = eq != std::string::npos;
    name = has_value ? body.substr(0, eq) : body;
    value = has_value ? body.substr(eq + 1) : std::string();
    return !name.empty();
}

}  // namespace

namespace {

// The default directory's plugin of one type, by its file name
// (<kind>_<type>.so, as the bundled plugins are named). False when there is
// no such file or it does not load.
bool load_bundled(PluginRegistry& registry, Kind kind, const std::string& type,
                  std::vector<std::string>& errors) {
    if (registry.find(kind, type) != nullptr) {
        return true;
    }
    const bool plain = !type.empty() && std::all_of(type.begin(), type.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    });
    if (!plain) {
        return false;  // not a plugin type name: no file to look for
    }
    const std::filesystem::path file = std::filesystem::path(default_plugin_dir()) /
                                       (std::string(kind_name(kind)) + "_" + type + ".so");
    std::error_code ec;
    return std::filesystem::exists(file, ec) && registry.load_file(file.string(), errors) &&
           registry.find(kind, type) != nullptr;
}

}  // namespace

// With a pipeline, only the bundled plugins it names are loaded (each maps
// the libraries it links: libprotobuf, Poco's TLS...); the whole default
// directory is loaded only when a type is found nowhere else, for plugins
// named otherwise and for the "did you mean" of an unknown type. Directories
// named on the command line or in the pipeline are loaded whole.
void load_plugins(PluginRegistry& registry, const PipelineSpec* spec,
                  const std::vector<std::string>& extra_dirs, std::vector<std::string>& errors) {
    if (spec == nullptr) {
        registry.load_directory(default_plugin_dir(), errors);
    } else {
        for (const auto& c : spec->components) {
            load_bundled(registry, c.kind, c.type, errors);
        }
    }
    for (const auto& d : extra_dirs) {
        registry.load_directory(absolute_path(d, std::filesystem::current_path().string()), errors);
    }
    if (spec != nullptr) {
        for (const auto& d : spec->plugin_dirs) {
            if (d.empty()) {
                continue;  // e.g. ${PLUGIN_DIR:-} with the variable unset
            }
            registry.load_directory(absolute_path(d, spec->base_dir), errors);
        }
        for (const auto& f : spec->plugins) {
            registry.load_file(absolute_path(f, spec->base_dir), errors);
        }
        const bool all_found =
            std::all_of(spec->components.begin(), spec->components.end(),
                        [&](const auto& c) { return registry.find(c.kind, c.type) != nullptr; });
        if (!all_found) {
            registry.load_directory(default_plugin_dir(), errors);
        }
    }
}

void print_errors(const std::vector<std::string>& errors) {
    for (const auto& e : errors) {
        print_error(e);
    }
}

void print_config_errors(const std::vector<ConfigError>& errors) {
    for (const auto& e : errors) {
        print_error(e.format());
    }
}

// Loads plugins and validates `spec`; prints every problem. Returns false on any.
bool prepare(PipelineSpec& spec, PluginRegistry& registry,
             const std::vector<std::string>& plugin_dirs) {
    std::vector<std::string> load_errors;
    load_plugins(registry, &spec, plugin_dirs, load_errors);
    std::vector<ConfigError> errors;
    validate_pipeline(spec, registry, errors);
    print_errors(load_errors);
    print_config_errors(errors);
    return load_errors.empty() && errors.empty();
}

// --dry-run: every sink becomes a stdout sink, after the real ones validated.
bool replace_sinks_with_stdout(PipelineSpec& spec, PluginRegistry& registry) {
    std::vector<std::string> load_errors;
    if (!load_bundled(registry, Kind::Sink, "stdout", load_errors)) {
        registry.load_directory(default_plugin_dir(), load_errors);
    }
    print_errors(load_errors);
    for (auto& c : spec.components) {
        if (c.kind == Kind::Sink) {
            c.type = "stdout";
            c.options = YAML::Node(YAML::NodeType::Map);
        }
    }
    std::vector<ConfigError> errors;
    validate_pipeline(spec, registry, errors);
    print_config_errors(errors);
    return errors.empty();
}

namespace {

// What the table says beyond type and default: choices, range, path, aliases.
std::string option_notes(const OptionSpec& o, bool markdown) {
    const auto code = [markdown](const std::string& text) {
        return markdown ? "`" + text + "`" : text;
    };
    std::string out;
    if (o.choices != nullptr) {
        out += " One of";
        for (const char* const* c = o.choices; *c != nullptr; ++c) {
            out += (c == o.choices ? " " : ", ") + code(*c);
        }
        out += ".";
    }
    const bool duration = o.type == OptionType::Duration;
    const auto show = [duration](std::int64_t v) {
        return duration ? format_duration(std::chrono::milliseconds(v)) : std::to_string(v);
    };
    if (o.min != INT64_MIN && o.max != INT64_MAX) {
        out += " From " + code(show(o.min)) + " to " + code(show(o.max)) + ".";
    } else if (o.min != INT64_MIN) {
        out += " At least " + code(show(o.min)) + ".";
    } else if (o.max != INT64_MAX) {
        out += " At most " + code(show(o.max)) + ".";
    }
    if (o.path) {
        out += " Relative paths resolve against the pipeline file's directory.";
    }
    for (const char* const* a = o.aliases; a != nullptr && *a != nullptr; ++a) {
        out += " Formerly " + code(*a) + ".";
    }
    return out;
}

// The option's doc followed by its notes, as sentences.
std::string with_notes(const OptionSpec& o, bool markdown) {
    std::string out = o.doc;
    const std::string notes = option_notes(o, markdown);
    if (!notes.empty() && !out.empty() && out.back() != '.') {
        out += '.';
    }
    return out + notes;
}

void print_markdown_table(const OptionSpec* options, std::size_t count, bool with_required) {
    std::cout << (with_required ? "| option | type | default | required | description |\n"
                                  "|---|---|---|---|---|\n"
                                : "| option | type | default | description |\n"
                                  "|---|---|---|---|\n");
    for (std::size_t i = 0; i < count; ++i) {
        const auto& o = options[i];
        std::cout << "| `" << o.name << "` | " << option_type_name(o.type) << " | ";
        if (o.default_value) {
            std::cout << '`' << o.default_value << '`';
        }
        if (with_required) {
            std::cout << " | " << (o.required ? "yes" : "no");
        }
        std::cout << " | " << with_notes(o, true) << " |\n";
    }
}

void print_option_lines(const OptionSpec* options, std::size_t count) {
    for (std::size_t i = 0; i < count; ++i) {
        const auto& o = options[i];
        std::cout << "    " << o.name << " (" << option_type_name(o.type)
                  << (o.required ? ", required" : "")
                  << (o.default_value ? ", default " + std::string(o.default_value) : "")
                  << "): " << with_notes(o, false) << "\n";
    }
}

int print_plugins(const CommonOptions& opts) {
    PluginRegistry registry;
    std::vector<std::string> errors;
    load_plugins(registry, nullptr, opts.plugin_dirs, errors);
    print_errors(errors);
    std::vector<const LoadedPlugin*> sorted;
    for (const auto& p : registry.plugins()) {
        sorted.push_back(&p);
    }
    std::sort(sorted.begin(), sorted.end(), [](const LoadedPlugin* a, const LoadedPlugin* b) {
        if (a->descriptor->kind != b->descriptor->kind) {
            return a->descriptor->kind < b->descriptor->kind;
        }
        return std::string(a->descriptor->name) < b->descriptor->name;
    });
    if (opts.markdown) {
        std::cout << "# Plugin reference\n\n"
                     "Generated by `crossover plugins --markdown` from the option tables of the "
                     "pipeline file and of the plugins.\n\n## `engine`\n\n";
        print_markdown_table(engine_options().specs(), engine_options().size(), false);
        std::cout << "\n## `server`\n\n";
        print_markdown_table(server_options().specs(), server_options().size(), false);
        for (const auto* p : sorted) {
            const auto& d = *p->descriptor;
            std::cout << "\n## `" << d.name << "` (" << kind_name(d.kind) << ")\n\n"
                      << d.doc << "\n\n";
            print_markdown_table(d.options, d.option_count, true);
        }
        return errors.empty() ? 0 : 1;
    }
    for (const auto* p : sorted) {
        const auto& d = *p->descriptor;
        std::cout << kind_name(d.kind) << " " << d.name << " " << d.version << "  (" << p->path
                  << ")\n  " << d.doc << "\n";
        print_option_lines(d.options, d.option_count);
    }
    return errors.empty() ? 0 : 1;
}

// What the command line asks for.
struct CommandLine {
    std::string command;  // empty: the original's command line
    std::string file;
    CommonOptions opts;
    std::vector<std::string> legacy;  // flags of the original's command line
};

// Reads the value of a flag that takes one into `out`.
bool read_value(ArgReader& args, const std::string& arg, const std::string& value, bool has_value,
                std::string& out) {
    auto v = args.value_for(arg, value, has_value);
    if (!v) {
        return false;
    }
    out = *v;
    return true;
}

// Reads one of crossover's own flags (`name`, given as `arg`). Returns an exit
// code when the flag ends the program (help, version, a bad value), nullopt
// to go on; a flag that is not crossover's goes to `line.legacy`.
std::optional<int> read_flag(ArgReader& args, const std::string& arg, const std::string& name,
                             const std::string& value, bool has_value, CommandLine& line) {
    CommonOptions& opts = line.opts;
    if (name == "help" || name == "h") {
        std::cout << kUsage;
        return 0;
    }
    if (name == "help-legacy") {
        std::cout << legacy_usage();
        return 0;
    }
    if (name == "version") {
        print_version();
        return 0;
    }
    std::string v;
    if (name == "onetime") {
        return bool_flag(arg, value, has_value, opts.onetime) ? std::nullopt : std::optional(2);
    }
    if (name == "dry-run") {
        return bool_flag(arg, value, has_value, opts.dry_run) ? std::nullopt : std::optional(2);
    }
    if (name == "markdown") {
        opts.markdown = true;
    } else if (name == "pipeline") {
        if (!read_value(args, arg, value, has_value, line.file)) {
            return 2;
        }
        line.command = "run";
    } else if (name == "log-level") {
        if (!read_value(args, arg, value, has_value, v) || !parse_log_level(v, opts.level)) {
            print_usage_error("--log-level must be debug, info, warn or error");
            return 2;
        }
    } else if (name == "log-format") {
        if (!read_value(args, arg, value, has_value, v) || !parse_log_format(v, opts.format)) {
            print_usage_error("--log-format must be text or json");
            return 2;
        }
    } else if (name == "listen") {
        if (!read_value(args, arg, value, has_value, v)) {
            return 2;
        }
        opts.listen = v;
    } else if (name == "plugin-dir") {
        if (!read_value(args, arg, value, has_value, v)) {
            return 2;
        }
        opts.plugin_dirs.push_back(v);
    } else {
        // Anything else belongs to the original's command line.
        line.legacy.push_back(arg);
        if (!has_value && legacy_flag_takes_value(name) && !args.done()) {
            line.legacy.push_back(args.next());
        }
    }
    return std::nullopt;
}

// Reads the command (if any), its pipeline file and the flags. Returns an exit
// code when the program ends there, nullopt to run `line`.
std::optional<int> read_command_line(int argc, char** argv, CommandLine& line) {
    ArgReader args(argc, argv);
    if (args.done()) {
        std::cerr << kUsage;
        return 2;
    }
    const std::string first = argv[1];
    if (first == "help") {
        std::cout << kUsage;
        return 0;
    }
    if (first == "version") {
        print_version();
        return 0;
    }
    if (first == "run" || first == "validate" || first == "plugins") {
        line.command = args.next();
    } else if (first.empty() || first[0] != '-') {
        const std::string near = closest(first, kCommands);
        print_usage_error("unknown command '" + first + "'" +
                          (near.empty() ? "" : " (did you mean '" + near + "'?)") +
                          "; see crossover help");
        return 2;
    }
    while (!args.done()) {
        const std::string arg = args.next();
        std::string name;
        std::string value;
        bool has_value = false;
        if (!split_flag(arg, name, value, has_value)) {
            if ((line.command == "run" || line.command == "validate") && line.file.empty()) {
                line.file = arg;
                continue;
            }
            print_usage_error("unexpected argument '" + arg + "'");
            return 2;
        }
        if (auto exit = read_flag(args, arg, name, value, has_value, line)) {
            return exit;
        }
    }
    return std::nullopt;
}

// `crossover validate FILE`: every problem at once; the components' options
// are checked even when the file has other problems.
int validate_command(const CommandLine& line) {
    std::vector<ConfigError> errors;
    PipelineSpec spec = parse_pipeline_file(line.file, process_env, errors);
    print_config_errors(errors);
    unblock_stop_signals();
    PluginRegistry registry;
    if (!prepare(spec, registry, line.opts.plugin_dirs) || !errors.empty()) {
        return 1;
    }
    std::cout << line.file << ": ok (" << spec.components.size() << " components)\n";
    return 0;
}

// `crossover run FILE`.
int run_command(const CommandLine& line, RunSettings settings) {
    std::vector<ConfigError> errors;
    PipelineSpec spec = parse_pipeline_file(line.file, process_env, errors);
    if (!errors.empty()) {
        print_config_errors(errors);
        return 2;
    }
    settings.pipeline_file = line.file;
    return run_pipeline(std::move(spec), settings);
}

}  // namespace

int run_cli(int argc, char** argv) {
    set_error_format_from_args(argc, argv);
    CommandLine line;
    if (auto exit = read_command_line(argc, argv, line)) {
        return *exit;
    }
    const CommonOptions& opts = line.opts;
    set_error_format(opts.format);
    RunSettings settings;
    settings.onetime = opts.onetime;
    settings.dry_run = opts.dry_run;
    settings.level = opts.level;
    settings.format = opts.format;
    settings.plugin_dirs = opts.plugin_dirs;
    settings.listen = opts.listen;

    if (line.command == "plugins") {
        unblock_stop_signals();  // no pipeline runs: signals act as usual
        return print_plugins(opts);
    }
    if (line.command.empty()) {
        return run_legacy(line.legacy, settings);
    }
    if (!line.legacy.empty()) {
        print_usage_error("unknown flag '" + line.legacy.front() + "' for '" + line.command + "'");
        return 2;
    }
    if (line.file.empty()) {
        print_usage_error("'" + line.command + "' needs a pipeline file");
        return 2;
    }
    return line.command == "validate" ? validate_command(line) : run_command(line, settings);
}

}  // namespace crossover::core
