// envoy_validate's re-checks of a changed document (only the resources whose
// bytes changed, only the virtual hosts of a RouteConfiguration that changed,
// only the numbers that changed) against a full check: the input is versions
// of one document separated by NUL bytes; a validator that saw each version
// in turn must say of every version after the first exactly what a validator
// that sees only that version says. Also checks the bounds of the resource
// split and of each resource's virtual_hosts split. Needs the build's Envoy
// protos; without them only the splits are checked.
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

// The items lie one after the other, each from the start of a line with
// '-' at the column, after the key's line.
void check_items(std::string_view text, const crossover::envoy_validate::ResourceLayout& layout) {
    std::size_t at = layout.head_end();
    if (layout.items.empty() || at == 0 || at > text.size() || layout.key_line >= at) {
        __builtin_trap();
    }
    for (const auto& item : layout.items) {
        if (item.begin != at || item.end <= item.begin || item.end > text.size() ||
            text[item.begin - 1] != '\n' || text[item.begin + layout.column] != '-') {
            __builtin_trap();
        }
        at = item.end;
    }
}

void check_split(std::string_view text) {
    const auto layout = crossover::envoy_validate::scan_resources(text);
    if (!layout) {
        return;
    }
    check_items(text, *layout);
    for (const auto& item : layout->items) {
        const std::string_view resource = text.substr(item.begin, item.end - item.begin);
        const auto column = crossover::envoy_validate::item_key_column(resource);
        if (!column) {
            continue;
        }
        if (*column >= resource.size() || resource[*column] == ' ') {
            __builtin_trap();
        }
        if (const auto hosts =
                crossover::envoy_validate::scan_list(resource, "virtual_hosts", *column)) {
            check_items(resource, *hosts);
            if (hosts->column < *column) {
                __builtin_trap();
            }
        }
    }
}

std::vector<std::string> check(Validator& v, const std::string& content) {
    static const std::string name = "fuzz.yaml";
    return v.validate({DocumentView{&name, &content, ""}});
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    constexpr std::size_t kMaxVersions = 8;  // each is checked in full once more
    const std::string input(reinterpret_cast<const char*>(data), size);
    std::vector<std::string> versions;
    for (std::size_t at = 0; versions.size() < kMaxVersions;) {
        const std::size_t nul = input.find('\0', at);
        versions.push_back(input.substr(at, nul == std::string::npos ? nul : nul - at));
        if (nul == std::string::npos) {
            break;
        }
        at = nul + 1;
    }
    if (versions.size() == 1) {
        versions.push_back(versions.front());  // unchanged: the cached findings
    }
    for (const auto& version : versions) {
        check_split(version);
    }
    Validator* seen = validator(0);
    Validator* fresh = validator(1);
    if (seen == nullptr || fresh == nullptr) {
        return 0;
    }
    (void)seen->validate({});  // forget the previous input
    (void)check(*seen, versions.front());
    for (std::size_t i = 1; i < versions.size(); ++i) {
        (void)fresh->validate({});
        if (check(*seen, versions[i]) != check(*fresh, versions[i])) {
            __builtin_trap();
        }
    }
    return 0;
}
