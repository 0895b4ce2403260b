// envoy_validate's re-checks of a changed document (only the resources whose
// bytes changed, only the numbers that changed) against a full check: the
// input is two versions of one document separated by a NUL byte; a validator
// that saw the first and then the second must say exactly what a validator
// that sees only the second says. Also checks the resource split's bounds.
// Needs the build's Envoy protos; without them only the split is checked.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "envoy_validator.h"
#include "resource_layout.h"

namespace {

using crossover::envoy_validate::DocumentView;
using crossover::envoy_validate::Validator;

Validator* validator(int which) {
    static const auto make = []() -> std::unique_ptr<Validator> {
        if (!crossover::envoy_validate::protos_present(CROSSOVER_FUZZ_ENVOY_PROTOS)) {
            return nullptr;
        }
        crossover::envoy_validate::ValidatorOptions o;
        o.proto_path = CROSSOVER_FUZZ_ENVOY_PROTOS;
        return std::make_unique<Validator>(o);
    };
    static const std::unique_ptr<Validator> first = make();
    static const std::unique_ptr<Validator> second = make();
    return which == 0 ? first.get() : second.get();
}

void check_split(std::string_view text) {
    const auto layout = crossover::envoy_validate::scan_resources(text);
    if (!layout) {
        return;
    }
    std::size_t at = layout->head_end();
    if (layout->items.empty() || at == 0 || at > text.size()) {
        __builtin_trap();
    }
    for (const auto& item : layout->items) {
        if (item.begin != at || item.end <= item.begin || item.end > text.size() ||
            text[item.begin - 1] != '\n' || text[item.begin + layout->column] != '-') {
            __builtin_trap();
        }
        at = item.end;
    }
}

std::vector<std::string> check(Validator& v, const std::string& content) {
    static const std::string name = "fuzz.yaml";
    return v.validate({DocumentView{&name, &content, ""}});
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string input(reinterpret_cast<const char*>(data), size);
    const std::size_t nul = input.find('\0');
    const std::string before = input.substr(0, nul);
    const std::string after = nul == std::string::npos ? before : input.substr(nul + 1);
    check_split(before);
    check_split(after);
    Validator* seen = validator(0);
    Validator* fresh = validator(1);
    if (seen == nullptr || fresh == nullptr) {
        return 0;
    }
    (void)seen->validate({});  // forget the previous input
    (void)fresh->validate({});
    (void)check(*seen, before);
    if (check(*seen, after) != check(*fresh, after)) {
        __builtin_trap();
    }
    return 0;
}
