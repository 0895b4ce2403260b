#include "plugin_registry.h"

#include <dlfcn.h>

#include <algorithm>
#include <cstring>
#include <filesystem>

namespace crossover::core {

namespace fs = std::filesystem;

namespace {

std::string canonical_or_same(const std::string& path) {
    std::error_code ec;
    const fs::path p = fs::canonical(path, ec);
    return ec ? path : p.string();
}

bool valid_type_name(const char* name) {
    if (name == nullptr || *name == '\0') {
        return false;
    }
    for (const char* p = name; *p != '\0'; ++p) {
        const char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) {
            return false;
        }
    }
    return true;
}

bool same_text(const char* a, const char* b) {
    return (a == nullptr && b == nullptr) ||
           (a != nullptr && b != nullptr && std::string_view(a) == std::string_view(b));
}

// Two descriptors of the same plugin: same type, documentation and options.
bool same_plugin(const PluginDescriptor& a, const PluginDescriptor& b) {
    if (a.kind != b.kind || !same_text(a.name, b.name) || !same_text(a.doc, b.doc) ||
        !same_text(a.version, b.version) || a.option_count != b.option_count) {
        return false;
    }
    for (std::size_t i = 0; i < a.option_count; ++i) {
        const OptionSpec& x = a.options[i];
        const OptionSpec& y = b.options[i];
        if (!same_text(x.name, y.name) || x.type != y.type || x.required != y.required ||
            !same_text(x.default_value, y.default_value) || !same_text(x.doc, y.doc) ||
            x.min != y.min || x.max != y.max || x.path != y.path) {
            return false;
        }
    }
    return true;
}

// A plugin's default must pass the plugin's own rules, or every pipeline that
// leaves the option out would be refused for something the user never wrote.
bool default_is_valid(const OptionSpec& o, std::string& why) {
    if (o.default_value == nullptr) {
        return true;
    }
    try {
        return check_option(o, YAML::Load(o.default_value), why);
    } catch (const YAML::Exception& e) {
        why = "invalid YAML: " + e.msg;
        return false;
    }
}

// The descriptor a loaded library's entry point returns; null, with why, when
// there is none.
const PluginDescriptor* descriptor_of(void* handle, std::string& why) {
    void* symbol = ::dlsym(handle, CROSSOVER_PLUGIN_ENTRY_SYMBOL);
    if (symbol == nullptr) {
        why = std::string("not a crossover plugin (no '") + CROSSOVER_PLUGIN_ENTRY_SYMBOL +
              "' symbol)";
        return nullptr;
    }
    crossover_plugin_entry_fn entry = nullptr;
    static_assert(sizeof(entry) == sizeof(symbol));
    std::memcpy(&entry, &symbol, sizeof(entry));
    const PluginDescriptor* d = entry();
    if (d == nullptr) {
        why = "entry point returned no descriptor";
    }
    return d;
}

// Why a plugin built against another SDK, toolchain or yaml-cpp cannot be
// used; empty when it can. Only the first two fields are read before the
// versions are known to match.
std::string build_mismatch(const PluginDescriptor& d) {
    if (d.abi_version != CROSSOVER_ABI_VERSION) {
        return "built for plugin ABI version " + std::to_string(d.abi_version) +
               ", but this crossover uses ABI version " + std::to_string(CROSSOVER_ABI_VERSION) +
               "; rebuild the plugin against this crossover's SDK";
    }
    if (d.toolchain != CROSSOVER_TOOLCHAIN_ID) {
        return "built with a different C++ toolchain (id " + std::to_string(d.toolchain) +
               ", this crossover uses " + std::to_string(CROSSOVER_TOOLCHAIN_ID) +
               "); rebuild it with the same compiler and standard library";
    }
    if (d.size != sizeof(PluginDescriptor)) {
        return "its descriptor has " + std::to_string(d.size) + " bytes, this crossover's has " +
               std::to_string(sizeof(PluginDescriptor)) +
               "; rebuild the plugin against this crossover's SDK";
    }
    if (!same_text(d.yaml_cpp_version, CROSSOVER_YAML_CPP_VERSION)) {
        return std::string("built against yaml-cpp ") +
               (d.yaml_cpp_version != nullptr ? d.yaml_cpp_version : "(unknown)") +
               ", this crossover uses yaml-cpp " + CROSSOVER_YAML_CPP_VERSION +
               "; rebuild it against the same yaml-cpp";
    }
    return {};
}

// Why a descriptor cannot be used (a mismatched build, a malformed type or
// option table); empty when it can.
std::string descriptor_problem(const PluginDescriptor& d) {
    std::string why = build_mismatch(d);
    if (!why.empty()) {
        return why;
    }
    const bool kind_ok =
        d.kind == Kind::Source || d.kind == Kind::Transform || d.kind == Kind::Sink;
    if (!valid_type_name(d.name) || !kind_ok || d.create == nullptr || d.destroy == nullptr ||
        (d.option_count > 0 && d.options == nullptr)) {
        return "malformed descriptor (type name must be [a-z0-9_]+, kind source, transform or "
               "sink, create and destroy set)";
    }
    for (std::size_t i = 0; i < d.option_count; ++i) {
        const OptionSpec& o = d.options[i];
        if (o.name == nullptr || o.doc == nullptr || std::string(o.name) == "type" ||
            std::string(o.name) == "inputs") {
            return "option " + std::to_string(i) +
                   " is malformed (needs a name other than type/inputs, and a doc)";
        }
        if (!default_is_valid(o, why)) {
            return "option '" + std::string(o.name) +
                   "' has a default its own table refuses: " + why;
        }
    }
    return {};
}

}  // namespace

void PluginRegistry::load_directory(const std::string& dir, std::vector<std::string>& errors) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) {
        errors.push_back("plugin directory " + dir + ": not found or not a directory");
        return;
    }
    const std::string canon = canonical_or_same(dir);
    if (std::find(loaded_dirs_.begin(), loaded_dirs_.end(), canon) != loaded_dirs_.end()) {
        return;
    }
    loaded_dirs_.push_back(canon);
    std::vector<std::string> files;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
        if (entry.path().extension() == ".so" && !entry.is_directory()) {
            files.push_back(entry.path().string());
        }
    }
    if (ec) {
        errors.push_back("plugin directory " + dir + ": " + ec.message());
        return;
    }
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
        load_file(f, errors);
    }
}

bool PluginRegistry::load_file(const std::string& path, std::vector<std::string>& errors) {
    std::error_code ec;
    if (!fs::exists(path, ec)) {
        errors.push_back("plugin " + path + ": file not found");
        return false;
    }
    const std::string canon = canonical_or_same(path);
    if (std::find(loaded_files_.begin(), loaded_files_.end(), canon) != loaded_files_.end()) {
        return true;
    }
    // Lazy: the libraries a plugin brings (libprotobuf, yaml-cpp) bind a function on its first
    // call instead of all of theirs at load (libprotobuf alone has ~2,400), which is ~4 M
    // instructions of a one-shot run. The plugin itself still binds at load: crossover_add_plugin
    // links it with -z now, so a symbol it lacks is still reported here, not at its first call.
    void* handle = ::dlopen(path.c_str(), RTLD_LAZY | RTLD_LOCAL);
    if (handle == nullptr) {
        const char* why = ::dlerror();
        errors.push_back("plugin " + path + ": cannot load: " + (why ? why : "unknown error"));
        return false;
    }
    std::string why;
    if (const PluginDescriptor* d = descriptor_of(handle, why)) {
        why = descriptor_problem(*d);
        if (why.empty()) {
            why = add(path, canon, *d);
        }
    }
    if (!why.empty()) {
        errors.push_back("plugin " + path + ": " + why);
        ::dlclose(handle);
        return false;
    }
    return true;
}

std::string PluginRegistry::add(const std::string& path, const std::string& canon,
                                const PluginDescriptor& d) {
    if (const LoadedPlugin* other = find(d.kind, d.name)) {
        if (!same_plugin(*other->descriptor, d)) {
            return std::string("duplicate ") + kind_name(d.kind) + " type '" + d.name +
                   "', already provided by " + other->path;
        }
        // The same plugin twice, such as its installed copy and its build
        // directory (a plugin's README builds, installs, then runs with the
        // build directory named): not a conflict. Directories are loaded
        // from the most general (the default) to the most specific (the
        // pipeline's plugin_dirs), so the later copy is the one meant.
        for (auto& p : plugins_) {
            if (&p == other) {
                p = LoadedPlugin{path, &d};
            }
        }
        loaded_files_.push_back(canon);
        return {};
    }
    loaded_files_.push_back(canon);
    plugins_.push_back(LoadedPlugin{path, &d});
    return {};
}

const LoadedPlugin* PluginRegistry::find(Kind kind, const std::string& name) const {
    for (const auto& p : plugins_) {
        if (p.descriptor->kind == kind && name == p.descriptor->name) {
            return &p;
        }
    }
    return nullptr;
}

std::vector<std::string> PluginRegistry::names(Kind kind) const {
    std::vector<std::string> out;
    for (const auto& p : plugins_) {
        if (p.descriptor->kind == kind) {
            out.emplace_back(p.descriptor->name);
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace crossover::core
