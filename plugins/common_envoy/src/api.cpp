#include "crossover_envoy/api.h"

#include <dlfcn.h>

#include <algorithm>
#include <climits>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <google/protobuf/io/coded_stream.h>

#include "crossover_envoy/types.h"

namespace crossover::envoy {

namespace fs = std::filesystem;

namespace {

std::string read_all(const fs::path& p, bool& ok) {
    std::ifstream in(p, std::ios::binary);
    ok = in.good();
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::string trimmed(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r')) {
        s.pop_back();
    }
    return s;
}

}  // namespace

bool api_present(const std::string& dir) {
    std::error_code ec;
    return !dir.empty() && fs::exists(fs::path(dir) / "VERSION", ec) &&
           fs::exists(fs::path(dir) / kDescriptorSetFile, ec);
}

std::vector<std::string> default_api_candidates() {
    std::vector<std::string> candidates;
    Dl_info info{};
    // The object this function is linked into: the plugin's shared object.
    if (dladdr(reinterpret_cast<void*>(&default_api_candidates), &info) != 0 &&
        info.dli_fname != nullptr) {
        std::error_code ec;
        const fs::path self = fs::weakly_canonical(fs::path(info.dli_fname), ec);
        const fs::path dir = self.parent_path();
#ifdef CROSSOVER_ENVOY_PROTOS_RELDIR
        candidates.push_back((dir / CROSSOVER_ENVOY_PROTOS_RELDIR).lexically_normal().string());
#endif
        // Build tree layout: <build>/lib/crossover/plugins/x.so next to
        // <build>/share/crossover/envoy-protos.
        std::string build =
            (dir / "../../../share/crossover/envoy-protos").lexically_normal().string();
        if (std::find(candidates.begin(), candidates.end(), build) == candidates.end()) {
            candidates.push_back(std::move(build));
        }
    }
    return candidates;
}

std::string default_api_dir() {
    for (const auto& candidate : default_api_candidates()) {
        if (api_present(candidate)) {
            return candidate;
        }
    }
    return {};
}

Api::Api(std::string dir) : dir_(std::move(dir)) {
    const fs::path set_path = fs::path(dir_) / kDescriptorSetFile;
    bool ok = false;
    bytes_ = read_all(set_path, ok);
    if (!ok) {
        throw std::runtime_error("cannot read Envoy's API descriptor set '" + set_path.string() +
                                 "' (the build makes it with packaging/envoy-descriptor-set.sh)");
    }
    version_ = trimmed(read_all(fs::path(dir_) / "VERSION", ok));
    database_ = std::make_unique<pb::EncodedDescriptorDatabase>();
    // A FileDescriptorSet is `repeated FileDescriptorProto file = 1`: hand
    // each file's bytes to the database as they are, without copying them.
    const auto* data = reinterpret_cast<const std::uint8_t*>(bytes_.data());
    if (bytes_.size() > static_cast<std::size_t>(INT_MAX)) {
        throw std::runtime_error("'" + set_path.string() + "' is too large");
    }
    pb::io::CodedInputStream in(data, static_cast<int>(bytes_.size()));
    for (std::uint32_t tag = in.ReadTag(); tag != 0; tag = in.ReadTag()) {
        std::uint32_t size = 0;
        const bool is_file = tag == ((1u << 3u) | 2u);
        if (!is_file || !in.ReadVarint32(&size)) {
            throw std::runtime_error("'" + set_path.string() + "' is not a FileDescriptorSet");
        }
        const int start = in.CurrentPosition();
        if (!in.Skip(static_cast<int>(size)) ||
            !database_->Add(data + start, static_cast<int>(size))) {
            throw std::runtime_error("'" + set_path.string() + "' is not a FileDescriptorSet");
        }
        ++file_count_;
    }
    if (file_count_ == 0) {
        throw std::runtime_error("'" + set_path.string() + "' holds no file");
    }
    pool_ = std::make_unique<pb::DescriptorPool>(database_.get());
    factory_ = std::make_unique<pb::DynamicMessageFactory>(pool_.get());
}

Api::~Api() = default;

const pb::Descriptor* Api::find_message(std::string_view full_name) const {
    return pool_->FindMessageTypeByName(std::string(full_name));
}

const pb::Descriptor* Api::find_type_url(std::string_view url) const {
    return find_message(type_name(url));
}

std::unique_ptr<pb::Message> Api::new_message(const pb::Descriptor* type) const {
    const pb::Message* prototype = factory_->GetPrototype(type);
    return std::unique_ptr<pb::Message>(prototype->New());
}

}  // namespace crossover::envoy
