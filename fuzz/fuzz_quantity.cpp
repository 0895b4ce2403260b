// The Kubernetes quantity parser and the exact conversion of quantities into
// Envoy weights: the whole input is one quantity, and each whitespace-separated
// word of it one weight of a v1alpha1 TrafficSplit.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "crossover/status.h"
#include "crossover_smi/quantity.h"

using namespace crossover::smi;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    try {
        (void)parse_quantity(text).to_string();
    } catch (const crossover::Error&) {
        // Refused with a message naming the quantity.
    }
    std::istringstream words(text);
    std::vector<Quantity> quantities;
    std::string word;
    while (words >> word) {
        try {
            quantities.push_back(parse_quantity(word));
            (void)quantities.back().to_string();
        } catch (const crossover::Error&) {
            // Refused with a message naming the quantity.
        }
    }
    try {
        (void)quantities_to_weights(quantities, "fuzz: ");
    } catch (const crossover::Error&) {
        // Negative weights, or ratios Envoy's 32-bit weights cannot hold.
    }
    return 0;
}
