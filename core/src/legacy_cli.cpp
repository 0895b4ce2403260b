#include "legacy_cli.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <sstream>
#include <string_view>
#include <system_error>

#include "logger.h"
#include "paths.h"

namespace crossover::core {

namespace {

// ---- the flag table ----------------------------------------------------------

enum class FlagType { Text, List, Bool };

// The components of the equivalent pipeline, as bits: a flag names the
// components whose option it sets.
enum Target : std::uint8_t {
    kNone = 0,
    kConfigMaps = 1U << 0U,     // source `configmaps` (kubernetes_configmap)
    kTrafficSplits = 1U << 1U,  // source `trafficsplits` (smi_trafficsplit)
    kGenConfigMap = 1U << 2U,   // sink `gen_configmap` (kubernetes_configmap)
    kOutput = 1U << 3U,         // sink `output` (symlink)
    kSources = kConfigMaps | kTrafficSplits,
    kKubernetes = kConfigMaps | kTrafficSplits | kGenConfigMap,
};

struct Flag {
    std::string_view name;  // without dashes
    FlagType type;
    std::string_view fallback;  // the default ("" none)
    std::uint8_t targets;       // Target bits; kNone: read by the translation itself
    std::string_view option;    // the option it sets in each target
    std::string_view choices;   // "a|b": the only values allowed ("" any)
    std::string_view usage;     // "--flag ARG\thelp..." ("" listed with another flag)
};

// Every flag of the original's command line, in --help-legacy order. A
// boolean option is written only when true, a list only when not empty.
constexpr Flag kFlags[] = {
    {"kubeconfig", FlagType::Text, "", kKubernetes, "kubeconfig", "",
     "--kubeconfig FILE\tkubeconfig, as kubectl takes it (default $KUBECONFIG,\n"
     "else ~/.kube/config when it exists)"},
    {"context", FlagType::Text, "", kKubernetes, "context", "",
     "--context NAME\tkubeconfig context (default its current-context)"},
    {"apiserver", FlagType::Text, "", kKubernetes, "apiserver", "",
     "--apiserver URL\tKubernetes API server (default: the kubeconfig's;\n"
     "without a kubeconfig https://kubernetes)"},
    {"namespace", FlagType::Text, "", kKubernetes, "namespace", "",
     "--namespace NS\tnamespace (default $NS, then $POD_NAMESPACE)"},
    {"configmap", FlagType::List, "", kConfigMaps, "names", "",
     "--configmap NAME\tConfigMap holding xDS files (repeatable)"},
    {"trafficsplit", FlagType::List, "", kTrafficSplits, "names", "",
     "--trafficsplit NAME\tTrafficSplit to merge (repeatable; implies --smi)"},
    {"smi", FlagType::Bool, "false", kNone, "", "",
     "--smi\tmerge TrafficSplit weights into the routes"},
    {"trafficsplit-api-version", FlagType::Text, "v1alpha2", kTrafficSplits, "api_version", "",
     "--trafficsplit-api-version V\tv1alpha1..v1alpha4 or auto (default v1alpha2)"},
    {"watch", FlagType::Bool, "false", kNone, "", "",
     "--watch\tkeep watching (the default unless --onetime)"},
    // --onetime and --dry-run are crossover's own flags (cli.cpp); listed for the usage.
    {"onetime", FlagType::Bool, "false", kNone, "", "",
     "--onetime\twrite once and exit (init container)"},
    {"sync-interval", FlagType::Text, "1m", kSources, "resync", "",
     "--sync-interval DUR\tperiodic re-list (default 1m)"},
    {"output-dir", FlagType::Text, "/srv/runtime", kOutput, "dir", "",
     "--output-dir DIR\toutput directory (default /srv/runtime)"},
    {"token-file", FlagType::Text, "", kKubernetes, "token_file", "",
     "--token-file FILE\tbearer token, re-read on rotation (default: the\n"
     "kubeconfig's, else the service account's)"},
    {"ca-file", FlagType::Text, "", kKubernetes, "ca_file", "",
     "--ca-file FILE\tCA bundle of the API server"},
    {"insecure", FlagType::Bool, "false", kKubernetes, "insecure", "",
     "--insecure\tskip TLS verification (logged as a warning)"},
    {"dry-run", FlagType::Bool, "false", kNone, "", "",
     "--dry-run\tprint the output, write nothing"},
    {"swap", FlagType::Text, "rename", kOutput, "mode", "rename|symlink",
     "--swap rename|symlink\toutput layout (default rename: DIR/current/KEY,\n"
     "as the original; symlink: versioned + symlink)"},
    {"write-gen-configmap", FlagType::Bool, "false", kNone, "", "",
     "--write-gen-configmap\talso write the result to <configmap>-gen"},
    {"print-pipeline", FlagType::Bool, "false", kNone, "", "",
     "--print-pipeline\tprint the equivalent pipeline file and exit"},
    {"envoy-protos", FlagType::Text, "", kNone, "", "",
     "--envoy-protos DIR\tEnvoy's API protos to check the output with\n"
     "(default <binary>/../share/crossover/envoy-protos)"},
    {"validate", FlagType::Bool, "true", kNone, "", "",
     "--no-validate, --validate=false\tdo not check the output against Envoy's API\n"
     "(checked by default when the protos are found)"},
    // --no-X[=B] is --X=!B; listed with --validate.
    {"no-validate", FlagType::Bool, "", kNone, "", "", ""},
};

const Flag* find_flag(std::string_view name) {
    for (const auto& f : kFlags) {
        if (f.name == name) {
            return &f;
        }
    }
    return nullptr;
}

bool allowed(const Flag& f, std::string_view value) {
    if (f.choices.empty()) {
        return true;
    }
    std::string_view rest = f.choices;
    while (!rest.empty()) {
        const auto bar = rest.find('|');
        if (rest.substr(0, bar) == value) {
            return true;
        }
        rest = bar == std::string_view::npos ? std::string_view() : rest.substr(bar + 1);
    }
    return false;
}

std::string choices_text(const Flag& f) {
    std::string out(f.choices);
    for (auto bar = out.find('|'); bar != std::string::npos; bar = out.find('|')) {
        out.replace(bar, 1, " or ");
    }
    return out;
}

// ---- the equivalent pipeline -------------------------------------------------

// The table's options for one component: every flag that targets it and has a value.
YAML::Node options_for(const LegacyFlags& flags, std::uint8_t target) {
    YAML::Node options(YAML::NodeType::Map);
    for (const auto& f : kFlags) {
        if ((f.targets & target) == 0) {
            continue;
        }
        const std::string key(f.option);
        switch (f.type) {
            case FlagType::Text:
                if (!flags.text(f.name).empty()) {
                    options[key] = flags.text(f.name);
                }
                break;
            case FlagType::List:
                if (!flags.list(f.name).empty()) {
                    YAML::Node list(YAML::NodeType::Sequence);
                    for (const auto& v : flags.list(f.name)) {
                        list.push_back(v);
                    }
                    options[key] = list;
                }
                break;
            case FlagType::Bool:
                if (flags.boolean(f.name)) {
                    options[key] = true;
                }
                break;
        }
    }
    return options;
}

YAML::Node component(const char* type, const std::vector<std::string>& inputs,
                     const YAML::Node& options) {
    YAML::Node c(YAML::NodeType::Map);
    c["type"] = type;
    if (!inputs.empty()) {
        YAML::Node list(YAML::NodeType::Sequence);
        for (const auto& i : inputs) {
            list.push_back(i);
        }
        c["inputs"] = list;
    }
    for (const auto& kv : options) {
        c[kv.first] = kv.second;
    }
    return c;
}

// A pipeline file takes `$$` for a literal `$`.
std::string escape_dollars(const std::string& text) {
    std::string out;
    for (const char ch : text) {
        out += ch;
        if (ch == '$') {
            out += '$';
        }
    }
    return out;
}

YAML::Node escaped(const YAML::Node& node) {
    if (node.IsScalar()) {
        return YAML::Node(escape_dollars(node.Scalar()));
    }
    YAML::Node out(node.Type());
    if (node.IsSequence()) {
        for (const auto& item : node) {
            out.push_back(escaped(item));
        }
    } else if (node.IsMap()) {
        for (const auto& kv : node) {
            out[kv.first.Scalar()] = escaped(kv.second);
        }
    }
    return out;
}

}  // namespace

std::string LegacyFlags::text(std::string_view flag) const {
    const auto it = values.find(flag);
    return it == values.end() || it->second.empty() ? std::string() : it->second.back();
}

const std::vector<std::string>& LegacyFlags::list(std::string_view flag) const {
    static const std::vector<std::string> kEmpty;
    const auto it = values.find(flag);
    return it == values.end() ? kEmpty : it->second;
}

bool LegacyFlags::boolean(std::string_view flag) const {
    return text(flag) == "true";
}

void LegacyFlags::set(std::string_view flag, std::string value) {
    values[std::string(flag)] = {std::move(value)};
}

bool parse_go_bool(const std::string& v, bool& out) {
    // The spellings Go's strconv.ParseBool accepts, as the original's flags did.
    for (const char* t : {"1", "t", "T", "TRUE", "true", "True"}) {
        if (v == t) {
            out = true;
            return true;
        }
    }
    for (const char* f : {"0", "f", "F", "FALSE", "false", "False"}) {
        if (v == f) {
            out = false;
            return true;
        }
    }
    return false;
}

std::string legacy_usage() {
    constexpr std::size_t kColumn = 34;
    std::string out =
        "Drop-in flags of the original crossover (used when no pipeline file is given):\n";
    for (const auto& f : kFlags) {
        if (f.usage.empty()) {
            continue;
        }
        const auto tab = f.usage.find('\t');
        std::string line = "  " + std::string(f.usage.substr(0, tab));
        line.resize(std::max(line.size() + 1, kColumn), ' ');
        std::string_view help = f.usage.substr(tab + 1);
        for (auto nl = help.find('\n'); nl != std::string_view::npos; nl = help.find('\n')) {
            out += line + std::string(help.substr(0, nl)) + "\n";
            line.assign(kColumn, ' ');
            help = help.substr(nl + 1);
        }
        out += line + std::string(help) + "\n";
    }
    return out;
}

bool legacy_flag_takes_value(const std::string& name) {
    const Flag* f = find_flag(name);
    return f != nullptr && f->type != FlagType::Bool;
}

namespace {

// Reads one flag (and its value, from `args` when not given with `=`) into `flags`.
bool read_flag(const std::vector<std::string>& args, std::size_t& i, LegacyFlags& flags,
               std::string& error) {
    const std::string& arg = args[i];
    if (arg.size() < 2 || arg[0] != '-') {
        error = "unexpected argument '" + arg + "'";
        return false;
    }
    std::string body = arg.substr(arg[1] == '-' ? 2 : 1);
    std::string value;
    bool has_value = false;
    if (const auto eq = body.find('='); eq != std::string::npos) {
        value = body.substr(eq + 1);
        body = body.substr(0, eq);
        has_value = true;
    }
    const Flag* f = find_flag(body);
    if (f == nullptr) {
        error = "unknown flag '" + arg + "' (see crossover --help and --help-legacy)";
        return false;
    }
    if (f->type == FlagType::Bool) {
        bool b = true;
        if (has_value && !parse_go_bool(value, b)) {
            error = "flag --" + body + " expects true or false";
            return false;
        }
        std::string_view name = f->name;
        if (name.substr(0, 3) == "no-") {  // --no-X[=B] is --X=!B
            name.remove_prefix(3);
            b = !b;
        }
        flags.set(name, b ? "true" : "false");
        return true;
    }
    if (!has_value) {
        if (i + 1 >= args.size()) {
            error = "flag --" + body + " needs a value";
            return false;
        }
        value = args[++i];
    }
    if (!allowed(*f, value)) {
        error = "--" + body + " must be " + choices_text(*f);
        return false;
    }
    if (f->type == FlagType::List) {
        flags.values[std::string(f->name)].push_back(value);
    } else {
        flags.set(f->name, value);
    }
    return true;
}

// The original's rules between flags, and where the API server is.
bool settle(LegacyFlags& flags, std::string& error) {
    // As in the original: naming a TrafficSplit turns the SMI merge on.
    if (!flags.list("trafficsplit").empty()) {
        flags.set("smi", "true");
    }
    if (flags.list("configmap").empty()) {
        error =
            "at least one --configmap is required (or give a pipeline file: crossover run "
            "FILE)";
        return false;
    }
    if (flags.text("kubeconfig").empty() && flags.text("apiserver").empty()) {
        flags.set("kubeconfig", found_kubeconfig());
    }
    if (!flags.text("kubeconfig").empty()) {
        flags.set("kubeconfig", absolute_path(flags.text("kubeconfig"),
                                              std::filesystem::current_path().string()));
    } else if (!flags.text("context").empty()) {
        error = "--context " + flags.text("context") +
                " needs a kubeconfig (--kubeconfig, $KUBECONFIG or ~/.kube/config)";
        return false;
    } else {
        // No kubeconfig: the original's in-cluster defaults.
        if (flags.text("apiserver").empty()) {
            flags.set("apiserver", kLegacyApiserver);
        }
        if (flags.text("token-file").empty()) {
            flags.set("token-file", kLegacyTokenFile);
        }
    }
    // With a kubeconfig and no namespace flag, the namespace comes from the
    // kubeconfig context as with kubectl (see the kubernetes plugins).
    if (flags.text("namespace").empty() && flags.text("kubeconfig").empty()) {
        flags.set("namespace", "default");
    }
    return true;
}

}  // namespace

bool parse_legacy_flags(const std::vector<std::string>& args, LegacyFlags& flags,
                        std::string& error) {
    for (const auto& f : kFlags) {
        if (!f.fallback.empty()) {
            flags.set(f.name, std::string(f.fallback));
        }
    }
    if (const char* ns = std::getenv("NS"); ns != nullptr && *ns != '\0') {
        flags.set("namespace", ns);
    } else if (const char* pns = std::getenv("POD_NAMESPACE"); pns != nullptr && *pns != '\0') {
        flags.set("namespace", pns);
    }
    for (std::size_t i = 0; i < args.size(); ++i) {
        if (!read_flag(args, i, flags, error)) {
            return false;
        }
    }
    return settle(flags, error);
}

std::string found_kubeconfig() {
    std::error_code ec;
    if (const char* kc = std::getenv("KUBECONFIG"); kc != nullptr && *kc != '\0') {
        std::stringstream list(kc);
        std::string item;
        while (std::getline(list, item, ':')) {
            if (!item.empty() && std::filesystem::exists(item, ec)) {
                return item;
            }
        }
        return {};
    }
    if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
        std::string p = std::string(home) + "/.kube/config";
        if (std::filesystem::exists(p, ec)) {
            return p;
        }
    }
    return {};
}

std::string default_envoy_protos_dir() {
    return (std::filesystem::path(executable_dir()) / CROSSOVER_ENVOY_PROTOS_RELDIR)
        .lexically_normal()
        .string();
}

bool envoy_protos_present(const std::string& dir) {
    std::error_code ec;
    const std::filesystem::path p(dir);
    return !dir.empty() && std::filesystem::exists(p / "VERSION", ec) &&
           std::filesystem::exists(p / "envoy-api/envoy/config/route/v3/route.proto", ec);
}

std::string legacy_pipeline_yaml(const LegacyFlags& flags) {
    const bool smi = flags.boolean("smi");
    YAML::Node sources(YAML::NodeType::Map);
    sources["configmaps"] = component("kubernetes_configmap", {}, options_for(flags, kConfigMaps));
    YAML::Node transforms(YAML::NodeType::Map);
    std::string last = "configmaps";
    if (smi) {
        sources["trafficsplits"] =
            component("smi_trafficsplit", {}, options_for(flags, kTrafficSplits));
        YAML::Node merge(YAML::NodeType::Map);
        if (flags.list("trafficsplit").empty()) {
            // Every TrafficSplit of the namespace: one without a virtual host here belongs
            // to another Envoy. A named one must match.
            merge["unmatched"] = "skip";
        }
        transforms["smi"] = component("smi_merge", {"configmaps", "trafficsplits"}, merge);
        last = "smi";
    }
    if (!flags.validate_protos.empty()) {
        YAML::Node check(YAML::NodeType::Map);
        check["proto_path"] = flags.validate_protos;
        transforms["validate"] = component("envoy_validate", {last}, check);
        last = "validate";
    }
    YAML::Node sinks(YAML::NodeType::Map);
    sinks["output"] = component("symlink", {last}, options_for(flags, kOutput));
    if (flags.boolean("write-gen-configmap")) {
        YAML::Node gen = options_for(flags, kGenConfigMap);
        gen["name"] = flags.list("configmap").front() + "-gen";
        sinks["gen_configmap"] = component("kubernetes_configmap", {last}, gen);
    }
    YAML::Node root(YAML::NodeType::Map);
    root["sources"] = sources;
    if (transforms.size() > 0) {
        root["transforms"] = transforms;
    }
    root["sinks"] = sinks;
    YAML::Emitter out;
    out << escaped(root);
    return std::string(out.c_str()) + "\n";
}

int run_legacy(const std::vector<std::string>& args, const RunSettings& settings) {
    LegacyFlags flags;
    std::string error;
    if (!parse_legacy_flags(args, flags, error)) {
        print_usage_error(error);
        return 2;
    }
    if (flags.boolean("validate")) {
        const bool given = !flags.text("envoy-protos").empty();
        const std::string dir = given ? absolute_path(flags.text("envoy-protos"),
                                                      std::filesystem::current_path().string())
                                      : default_envoy_protos_dir();
        if (envoy_protos_present(dir)) {
            flags.validate_protos = dir;
        } else if (given) {
            print_usage_error("--envoy-protos " + flags.text("envoy-protos") +
                              ": no Envoy protos there (install them with "
                              "packaging/fetch-envoy-protos.sh)");
            return 2;
        }
    }
    // The same parser as a pipeline file; the spec then counts as built in
    // memory (messages name components, not lines of the generated text).
    std::vector<ConfigError> errors;
    PipelineSpec spec = parse_pipeline_text(legacy_pipeline_yaml(flags), "", process_env, errors);
    if (!errors.empty()) {
        print_config_errors(errors);
        return 2;
    }
    spec.file.clear();
    spec.base_dir = ".";
    if (flags.boolean("print-pipeline")) {
        std::cout << to_yaml(spec);
        return 0;
    }
    {
        StderrLogger logger(settings.level, settings.format);
        if (!flags.validate_protos.empty()) {
            logger.log(LogLevel::Info, "",
                       "validating with Envoy's API from " + flags.validate_protos);
        } else if (flags.boolean("validate")) {
            logger.log(LogLevel::Warn, "",
                       "Envoy protos not found in " + default_envoy_protos_dir() +
                           ": the output is not validated against Envoy's API (install them "
                           "with packaging/fetch-envoy-protos.sh or give --envoy-protos DIR)");
        }
    }
    return run_pipeline(std::move(spec), settings);
}

}  // namespace crossover::core
