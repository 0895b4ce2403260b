// The drop-in command line of the original Go crossover: its flags are turned
// into an equivalent pipeline built in memory.
#pragma once

#include <string>
#include <vector>

#include "pipeline_config.h"
#include "supervisor.h"

namespace crossover::core {

std::string legacy_usage();
// Go's boolean flag values (true, false, 1, 0, t, f, ...), as `-flag=value`.
bool parse_go_bool(const std::string& v, bool& out);
bool legacy_flag_takes_value(const std::string& name);

struct LegacyFlags {
    // Where the API server is: --kubeconfig (and --context) as kubectl takes
    // them, else $KUBECONFIG or ~/.kube/config when found (unless --apiserver
    // is given), else the original's in-cluster defaults: https://kubernetes
    // and the service-account token. Empty: not given.
    std::string apiserver;
    std::string kubeconfig;
    std::string context;
    std::string namespace_;
    std::vector<std::string> configmaps;
    std::vector<std::string> trafficsplits;
    std::string trafficsplit_api_version = "v1alpha2";
    bool smi = false;
    bool watch = false;
    std::string sync_interval = "1m";
    std::string output_dir = "/srv/runtime";
    std::string token_file;
    bool insecure = false;
    std::string swap = "rename";
    bool write_gen_configmap = false;
    bool print_pipeline = false;
    std::string ca_file;
    // --validate / --no-validate: check the output with envoy_validate when
    // Envoy's protos are found (--envoy-protos, else the default location).
    bool validate = true;
    std::string envoy_protos;
    // Set by run_legacy: the protos directory envoy_validate uses; empty
    // when the output is not validated.
    std::string validate_protos;
};

// The original's defaults when no kubeconfig is given or found.
inline constexpr const char* kLegacyApiserver = "https://kubernetes";
inline constexpr const char* kLegacyTokenFile =
    "/var/run/secrets/kubernetes.io/serviceaccount/token";

// The kubeconfig kubectl would use: the first existing file of $KUBECONFIG
// (a colon-separated list), else ~/.kube/config when it exists; "" if none.
std::string found_kubeconfig();

// Parses the original's flags; returns false with `error` set on a bad flag.
bool parse_legacy_flags(const std::vector<std::string>& args, LegacyFlags& flags,
                        std::string& error);

// Where an installed (or built) crossover keeps Envoy's protos:
// <executable_dir>/../share/crossover/envoy-protos.
std::string default_envoy_protos_dir();
// True when `dir` holds Envoy's protos as fetch-envoy-protos.sh lays them out.
bool envoy_protos_present(const std::string& dir);

// The pipeline equivalent to the flags (with envoy_validate before the sinks
// when flags.validate_protos is set).
PipelineSpec legacy_pipeline(const LegacyFlags& flags);

int run_legacy(const std::vector<std::string>& args, const RunSettings& settings);

}  // namespace crossover::core
