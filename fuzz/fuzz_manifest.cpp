// The file source's manifest reader: the input is one file as the `file`
// source reads it (ConfigMaps, Lists, TrafficSplits, or a plain document).
#include <cstddef>
#include <cstdint>
#include <string>

#include "crossover/status.h"
#include "manifest_reader.h"

using namespace crossover;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    Snapshot out;
    try {
        file_source::add_manifest_text(text, "manifests/fuzz.yaml", out);
    } catch (const Error&) {
        // Invalid YAML or an unusable object: the source reports the file and line.
    }
    return 0;
}
