// The route registry's journal reader: the input is a journal file as a
// crash may leave it. Records are split off, framing them again must give
// back the bytes they came from, and each is replayed into the state.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "journal.h"
#include "route_state.h"

using namespace crossover::route_registry;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string bytes(reinterpret_cast<const char*>(data), size);
    const ReadRecords read = read_records(bytes);
    if (read.good_bytes > bytes.size()) {
        std::abort();
    }
    std::string again;
    for (const auto& r : read.records) {
        again += frame_record(r);
    }
    if (again != bytes.substr(0, read.good_bytes)) {
        std::abort();
    }
    RouteState state;
    for (std::size_t i = 0; i < read.records.size(); ++i) {
        try {
            state.replay(read.records[i], i);
        } catch (const crossover::Error&) {
            break;  // the start fails naming the record
        }
    }
    // A snapshot of whatever was replayed loads back into the same state.
    RouteState copy;
    copy.load_snapshot(state.snapshot());
    if (copy.version() != state.version() || copy.routes().size() != state.routes().size()) {
        std::abort();
    }
    return 0;
}
