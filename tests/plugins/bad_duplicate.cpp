// A second plugin claiming the `file` source type.
#include "crossover/sdk.h"

namespace {
const crossover::OptionSpec kOptions[] = {
    {"x", crossover::OptionType::String, nullptr, false, "unused"}};

class Dummy final : public crossover::Source {
public:
    explicit Dummy(const crossover::ComponentConfig&) {}
    crossover::Status run(crossover::SourceContext&) noexcept override {
        return crossover::Status::ok();
    }
};
}  // namespace

CROSSOVER_PLUGIN(crossover::Kind::Source, Dummy, "file", "duplicate of the file source", kOptions)
