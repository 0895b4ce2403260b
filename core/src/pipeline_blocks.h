// The pipeline file's own blocks (`engine:`, `server:`) declared with the same
// typed option tables the plugins use, so they are checked, defaulted,
// decoded and documented by the same code.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "crossover/option_table.h"

namespace crossover::core {

struct EngineSpec {
    std::chrono::milliseconds debounce{5};
    std::chrono::milliseconds max_delay{100};
    std::chrono::milliseconds retry_initial{200};
    std::chrono::milliseconds retry_max{30000};
};

struct ServerSpec {
    // Unset: 0.0.0.0:9090 when watching, off with --onetime.
    std::optional<std::string> listen;
};

const OptionTable<EngineSpec>& engine_options();
const OptionTable<ServerSpec>& server_options();

}  // namespace crossover::core
