// The `stdout` sink: prints each document under a header naming it.
#pragma once

#include <map>
#include <string>

#include "crossover/sdk.h"

namespace crossover::sink_stdout {

enum class Format { Headers, Raw };

struct StdoutOptions {
    std::string format = "headers";
};

// The bytes one write prints for these documents (sorted by name).
std::string render(const Snapshot& snapshot, Format format);

class StdoutSink final : public Sink {
public:
    StdoutSink(const ComponentConfig& config, const StdoutOptions& options);
    Status write(const Snapshot& snapshot, WriteOutcome& outcome) noexcept override;

private:
    std::string prefix_;
    Format format_ = Format::Headers;
    int fd_ = 1;
    bool printed_ = false;
    std::map<std::string, std::string> last_;  // what was printed last, by name
};

}  // namespace crossover::sink_stdout
