#include "pipeline_blocks.h"

namespace crossover::core {

const OptionTable<EngineSpec>& engine_options() {
    static const OptionTable<EngineSpec> table{
        option("debounce", &EngineSpec::debounce,
               "after a change, wait this long for quiet before recomputing (bursts coalesce)"),
        option("max_delay", &EngineSpec::max_delay,
               "never wait longer than this after the first change; not shorter than `debounce`"),
        option("retry_initial", &EngineSpec::retry_initial,
               "first retry delay of a failed transform or sink (doubles up to `retry_max`)")
            .at_least(std::chrono::milliseconds(1)),
        option("retry_max", &EngineSpec::retry_max, "longest retry delay"),
    };
    return table;
}

const OptionTable<ServerSpec>& server_options() {
    static const OptionTable<ServerSpec> table{
        option("listen", &ServerSpec::listen,
               "ADDR:PORT for `/healthz`, `/readyz` and `/metrics` (default `0.0.0.0:9090` when "
               "watching, off with `--onetime`; `off` disables); `--listen` overrides it"),
    };
    return table;
}

}  // namespace crossover::core
