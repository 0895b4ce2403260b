// The Kubernetes watch-stream decoder: each line of the input is one event as
// the API server streams it; decoded objects are read the way the sources
// read them (metadata, error events, conversion to YAML).
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

#include "crossover/status.h"
#include "crossover_kube/informer.h"
#include "crossover_kube/json.h"

using namespace crossover::kube;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::istringstream stream(std::string(reinterpret_cast<const char*>(data), size));
    std::string line;
    while (std::getline(stream, line)) {
        if (!line.empty() && line.back() == '\r') {
            line.pop_back();
        }
        if (line.empty()) {
            continue;
        }
        try {
            const WatchEvent ev = decode_event(line);
            (void)metadata_field(ev.object, "name");
            (void)metadata_field(ev.object, "resourceVersion");
            (void)get_string(ev.object, "code");
            (void)get_string(ev.object, "message");
            (void)get_string(ev.object, "apiVersion");
            (void)to_yaml(Poco::Dynamic::Var(ev.object));
            (void)to_json(ev.object);
        } catch (const crossover::Error&) {
            // An undecodable event: the informer logs it and reconnects.
        }
    }
    return 0;
}
