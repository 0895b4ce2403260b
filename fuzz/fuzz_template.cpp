// The template engine: the input is a template, parsed and rendered against
// data shaped like the transform's (.Values, .TrafficSplits, .ConfigMaps,
// .Env, .Namespace). Limits are lower than the transform's defaults so that a
// runaway template ends quickly; hitting one is a TemplateError like any other.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <yaml-cpp/yaml.h>

#include "crossover/status.h"
#include "evaluator.h"
#include "parser.h"
#include "value.h"

using namespace crossover::tmpl;

namespace {

const char* const kData = R"(
Values:
  split: podinfo
  routeName: local_route
  version: 7
  ratio: 0.25
  enabled: true
  nothing: null
  retries: {retry_on: 5xx, num_retries: 2}
  hosts: [a.example, b.example]
TrafficSplits:
  podinfo:
    name: podinfo
    namespace: test
    service: podinfo
    backends:
    - {service: podinfo-primary, weight: 95}
    - {service: podinfo-canary, weight: 5}
ConfigMaps:
  envoy-xds:
    rds.yaml: "resources: []\n"
Env: {HOME: /root}
Namespace: test
)";

const Value& data() {
    static const Value value = from_yaml(YAML::Load(kData));
    return value;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(bytes), size);
    ExecLimits limits;
    limits.max_output = 1u << 20;
    limits.max_steps = 100'000;
    try {
        const Template tmpl = parse(text);
        (void)execute(tmpl, data(), limits);
    } catch (const TemplateError& e) {
        (void)e.format("fuzz.tmpl");
    }
    return 0;
}
