#include "legacy_cli.h"

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <sstream>
#include <system_error>

#include "logger.h"
#include "paths.h"

namespace crossover::core {

namespace {

const std::vector<std::string> kValueFlags = {
    "apiserver",     "namespace",  "configmap",  "trafficsplit", "trafficsplit-api-version",
    "sync-interval", "output-dir", "token-file", "swap",         "ca-file",
    "envoy-protos",  "kubeconfig", "context"};

const std::vector<std::string> kBoolFlags = {
    "smi", "watch", "insecure", "write-gen-configmap", "print-pipeline", "validate", "no-validate"};

YAML::Node string_list(const std::vector<std::string>& items) {
    YAML::Node n(YAML::NodeType::Sequence);
    for (const auto& i : items) {
        n.push_back(i);
    }
    return n;
}

}  // namespace

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
    return "Drop-in flags of the original crossover (used when no pipeline file is given):\n"
           "  --kubeconfig FILE               kubeconfig, as kubectl takes it (default "
           "$KUBECONFIG,\n"
           "                                  else ~/.kube/config when it exists)\n"
           "  --context NAME                  kubeconfig context (default its current-context)\n"
           "  --apiserver URL                 Kubernetes API server (default: the kubeconfig's;\n"
           "                                  without a kubeconfig https://kubernetes)\n"
           "  --namespace NS                  namespace (default $NS, then $POD_NAMESPACE)\n"
           "  --configmap NAME                ConfigMap holding xDS files (repeatable)\n"
           "  --trafficsplit NAME             TrafficSplit to merge (repeatable; implies --smi)\n"
           "  --smi                           merge TrafficSplit weights into the routes\n"
           "  --trafficsplit-api-version V    v1alpha1..v1alpha4 or auto (default v1alpha2)\n"
           "  --watch                         keep watching (the default unless --onetime)\n"
           "  --onetime                       write once and exit (init container)\n"
           "  --sync-interval DUR             periodic re-list (default 1m)\n"
           "  --output-dir DIR                output directory (default /srv/runtime)\n"
           "  --token-file FILE               bearer token, re-read on rotation (default: the\n"
           "                                  kubeconfig's, else the service account's)\n"
           "  --ca-file FILE                  CA bundle of the API server\n"
           "  --insecure                      skip TLS verification (logged as a warning)\n"
           "  --dry-run                       print the output, write nothing\n"
           "  --swap rename|symlink           output layout (default rename: DIR/current/KEY,\n"
           "                                  as the original; symlink: versioned + symlink)\n"
           "  --write-gen-configmap           also write the result to <configmap>-gen\n"
           "  --print-pipeline                print the equivalent pipeline file and exit\n"
           "  --envoy-protos DIR              Envoy's API protos to check the output with\n"
           "                                  (default <binary>/../share/crossover/envoy-protos)\n"
           "  --no-validate, --validate=false do not check the output against Envoy's API\n"
           "                                  (checked by default when the protos are found)\n";
}

bool legacy_flag_takes_value(const std::string& name) {
    for (const auto& f : kValueFlags) {
        if (f == name) {
            return true;
        }
    }
    return false;
}

bool parse_legacy_flags(const std::vector<std::string>& args, LegacyFlags& flags,
                        std::string& error) {
    if (const char* ns = std::getenv("NS"); ns != nullptr && *ns != '\0') {
        flags.namespace_ = ns;
    } else if (const char* pns = std::getenv("POD_NAMESPACE"); pns != nullptr && *pns != '\0') {
        flags.namespace_ = pns;
    }
    for (std::size_t i = 0; i < args.size(); ++i) {
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
        if (legacy_flag_takes_value(body)) {
            if (!has_value) {
                if (i + 1 >= args.size()) {
                    error = "flag --" + body + " needs a value";
                    return false;
                }
                value = args[++i];
            }
            if (body == "apiserver") {
                flags.apiserver = value;
            } else if (body == "namespace") {
                flags.namespace_ = value;
            } else if (body == "configmap") {
                flags.configmaps.push_back(value);
            } else if (body == "trafficsplit") {
                flags.trafficsplits.push_back(value);
            } else if (body == "trafficsplit-api-version") {
                flags.trafficsplit_api_version = value;
            } else if (body == "sync-interval") {
                flags.sync_interval = value;
            } else if (body == "output-dir") {
                flags.output_dir = value;
            } else if (body == "token-file") {
                flags.token_file = value;
            } else if (body == "kubeconfig") {
                flags.kubeconfig = value;
            } else if (body == "context") {
                flags.context = value;
            } else if (body == "ca-file") {
                flags.ca_file = value;
            } else if (body == "envoy-protos") {
                flags.envoy_protos = value;
            } else if (body == "swap") {
                if (value != "rename" && value != "symlink") {
                    error = "--swap must be rename or symlink";
                    return false;
                }
                flags.swap = value;
            }
            continue;
        }
        bool known = false;
        for (const auto& f : kBoolFlags) {
            known = known || f == body;
        }
        if (!known) {
            error = "unknown flag '" + arg + "' (see crossover --help and --help-legacy)";
            return false;
        }
        bool b = true;
        if (has_value && !parse_go_bool(value, b)) {
            error = "flag --" + body + " expects true or false";
            return false;
        }
        if (body == "smi") {
            flags.smi = b;
        } else if (body == "watch") {
            flags.watch = b;
        } else if (body == "insecure") {
            flags.insecure = b;
        } else if (body == "write-gen-configmap") {
            flags.write_gen_configmap = b;
        } else if (body == "print-pipeline") {
            flags.print_pipeline = b;
        } else if (body == "validate") {
            flags.validate = b;
        } else if (body == "no-validate") {
            flags.validate = !b;
        }
    }
    // As in the original: naming a TrafficSplit turns the SMI merge on.
    if (!flags.trafficsplits.empty()) {
        flags.smi = true;
    }
    if (flags.configmaps.empty()) {
        error =
            "at least one --configmap is required (or give a pipeline file: crossover run "
            "FILE)";
        return false;
    }
    if (flags.kubeconfig.empty() && flags.apiserver.empty()) {
        flags.kubeconfig = found_kubeconfig();
    }
    if (!flags.kubeconfig.empty()) {
        flags.kubeconfig =
            absolute_path(flags.kubeconfig, std::filesystem::current_path().string());
    } else if (!flags.context.empty()) {
        error = "--context " + flags.context +
                " needs a kubeconfig (--kubeconfig, $KUBECONFIG or ~/.kube/config)";
        return false;
    } else {
        // No kubeconfig: the original's in-cluster defaults.
        if (flags.apiserver.empty()) {
            flags.apiserver = kLegacyApiserver;
        }
        if (flags.token_file.empty()) {
            flags.token_file = kLegacyTokenFile;
        }
    }
    // With a kubeconfig and no namespace flag, the namespace comes from the
    // kubeconfig context as with kubectl (see the kubernetes plugins).
    if (flags.namespace_.empty() && flags.kubeconfig.empty()) {
        flags.namespace_ = "default";
    }
    return true;
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

PipelineSpec legacy_pipeline(const LegacyFlags& flags) {
    PipelineSpec spec;
    spec.base_dir = ".";
    auto connection = [&](YAML::Node& o) {
        if (!flags.kubeconfig.empty()) {
            o["kubeconfig"] = flags.kubeconfig;
        }
        if (!flags.context.empty()) {
            o["context"] = flags.context;
        }
        if (!flags.apiserver.empty()) {
            o["apiserver"] = flags.apiserver;
        }
        if (!flags.namespace_.empty()) {
            o["namespace"] = flags.namespace_;
        }
        if (!flags.token_file.empty()) {
            o["token_file"] = flags.token_file;
        }
        if (!flags.ca_file.empty()) {
            o["ca_file"] = flags.ca_file;
        }
        if (flags.insecure) {
            o["insecure"] = true;
        }
        o["resync"] = flags.sync_interval;
    };
    ComponentSpec xds;
    xds.kind = Kind::Source;
    xds.name = "configmaps";
    xds.path = "sources.configmaps";
    xds.type = "kubernetes_configmap";
    xds.options = YAML::Node(YAML::NodeType::Map);
    connection(xds.options);
    xds.options["names"] = string_list(flags.configmaps);
    spec.components.push_back(xds);
    std::string last = "configmaps";
    if (flags.smi) {
        ComponentSpec splits;
        splits.kind = Kind::Source;
        splits.name = "trafficsplits";
        splits.path = "sources.trafficsplits";
        splits.type = "smi_trafficsplit";
        splits.options = YAML::Node(YAML::NodeType::Map);
        connection(splits.options);
        splits.options["api_version"] = flags.trafficsplit_api_version;
        if (!flags.trafficsplits.empty()) {
            splits.options["names"] = string_list(flags.trafficsplits);
        }
        spec.components.push_back(splits);
        ComponentSpec merge;
        merge.kind = Kind::Transform;
        merge.name = "smi";
        merge.path = "transforms.smi";
        merge.type = "smi_merge";
        merge.inputs = {"configmaps", "trafficsplits"};
        merge.options = YAML::Node(YAML::NodeType::Map);
        if (flags.trafficsplits.empty()) {
            // Every TrafficSplit of the namespace: one without a virtual host here belongs
            // to another Envoy. A named one must match.
            merge.options["unmatched"] = "skip";
        }
        spec.components.push_back(merge);
        last = "smi";
    }
    if (!flags.validate_protos.empty()) {
        ComponentSpec check;
        check.kind = Kind::Transform;
        check.name = "validate";
        check.path = "transforms.validate";
        check.type = "envoy_validate";
        check.inputs = {last};
        check.options = YAML::Node(YAML::NodeType::Map);
        check.options["proto_path"] = flags.validate_protos;
        spec.components.push_back(check);
        last = "validate";
    }
    ComponentSpec sink;
    sink.kind = Kind::Sink;
    sink.name = "output";
    sink.path = "sinks.output";
    sink.type = "symlink";
    sink.inputs = {last};
    sink.options = YAML::Node(YAML::NodeType::Map);
    sink.options["dir"] = flags.output_dir;
    sink.options["mode"] = flags.swap;
    spec.components.push_back(sink);
    if (flags.write_gen_configmap) {
        ComponentSpec gen;
        gen.kind = Kind::Sink;
        gen.name = "gen_configmap";
        gen.path = "sinks.gen_configmap";
        gen.type = "kubernetes_configmap";
        gen.inputs = {last};
        gen.options = YAML::Node(YAML::NodeType::Map);
        connection(gen.options);
        gen.options.remove("resync");
        gen.options["name"] = flags.configmaps.front() + "-gen";
        spec.components.push_back(gen);
    }
    return spec;
}

int run_legacy(const std::vector<std::string>& args, const RunSettings& settings) {
    LegacyFlags flags;
    std::string error;
    if (!parse_legacy_flags(args, flags, error)) {
        print_usage_error(error);
        return 2;
    }
    if (flags.validate) {
        const bool given = !flags.envoy_protos.empty();
        const std::string dir =
            given ? absolute_path(flags.envoy_protos, std::filesystem::current_path().string())
                  : default_envoy_protos_dir();
        if (envoy_protos_present(dir)) {
            flags.validate_protos = dir;
        } else if (given) {
            print_usage_error("--envoy-protos " + flags.envoy_protos +
                              ": no Envoy protos there (install them with "
                              "packaging/fetch-envoy-protos.sh)");
            return 2;
        }
    }
    PipelineSpec spec = legacy_pipeline(flags);
    if (flags.print_pipeline) {
        std::cout << to_yaml(spec);
        return 0;
    }
    {
        StderrLogger logger(settings.level, settings.format);
        if (!flags.validate_protos.empty()) {
            logger.log(LogLevel::Info, "",
                       "validating with Envoy's API from " + flags.validate_protos);
        } else if (flags.validate) {
            logger.log(LogLevel::Warn, "",
                       "Envoy protos not found in " + default_envoy_protos_dir() +
                           ": the output is not validated against Envoy's API (install them "
                           "with packaging/fetch-envoy-protos.sh or give --envoy-protos DIR)");
        }
    }
    return run_pipeline(std::move(spec), settings);
}

}  // namespace crossover::core
