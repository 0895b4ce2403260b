// The drop-in command line of the original Go crossover. One table
// (legacy_cli.cpp: kFlags) says for every flag its value type, its default,
// and which components of the equivalent pipeline it sets which option of;
// the flags become pipeline YAML that goes through the same parser and
// validation as a pipeline file.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "pipeline_config.h"
#include "supervisor.h"

namespace crossover::core {

std::string legacy_usage();
// Go's boolean flag values (true, false, 1, 0, t, f, ...), as `-flag=value`.
bool parse_go_bool(const std::string& v, bool& out);
bool legacy_flag_takes_value(const std::string& name);

// The flags' values by flag name ("configmap"), defaults filled in: one value
// for a text flag, every value given for a list flag, "true"/"false" for a
// boolean flag.
struct LegacyFlags {
    std::map<std::string, std::vector<std::string>, std::less<>> values;
    // Set by run_legacy: the protos directory envoy_validate uses; empty
    // when the output is not validated.
    std::string validate_protos;

    [[nodiscard]] std::string text(std::string_view flag) const;
    [[nodiscard]] const std::vector<std::string>& list(std::string_view flag) const;
    [[nodiscard]] bool boolean(std::string_view flag) const;
    void set(std::string_view flag, std::string value);
};

// The original's defaults when no kubeconfig is given or found.
inline constexpr const char* kLegacyApiserver = "https://kubernetes";
inline constexpr const char* kLegacyTokenFile =
    "/var/run/secrets/kubernetes.io/serviceaccount/token";

// The kubeconfig kubectl would use: the first existing file of $KUBECONFIG
// (a colon-separated list), else ~/.kube/config when it exists; "" if none.
std::string found_kubeconfig();

// Parses the original's flags; returns false with `error` set on a bad flag.
// Where the API server is: --kubeconfig (and --context) as kubectl takes
// them, else $KUBECONFIG or ~/.kube/config when found (unless --apiserver is
// given), else the original's in-cluster defaults: https://kubernetes and the
// service-account token.
bool parse_legacy_flags(const std::vector<std::string>& args, LegacyFlags& flags,
                        std::string& error);

// Where an installed (or built) crossover keeps Envoy's protos:
// <executable_dir>/../share/crossover/envoy-protos.
std::string default_envoy_protos_dir();
// True when `dir` holds Envoy's protos as fetch-envoy-protos.sh lays them out.
bool envoy_protos_present(const std::string& dir);

// The pipeline file equivalent to the flags (with envoy_validate before the
// sinks when flags.validate_protos is set).
std::string legacy_pipeline_yaml(const LegacyFlags& flags);

int run_legacy(const std::vector<std::string>& args, const RunSettings& settings);

}  // namespace crossover::core
