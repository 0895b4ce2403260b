#include "crossover_envoy/api.h"

#include <dlfcn.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <utility>

#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/wire_format_lite.h>

#include "crossover_envoy/types.h"

namespace crossover::envoy {

namespace fs = std::filesystem;

namespace {

// A regular file is read with one read into a string of its size (the ~0.8 MB
// descriptor set went through a stringstream before: two more copies and their
// heap). It is not mapped: the database reads it for as long as the process
// runs, and a mapped file rewritten in place would fault instead of staying
// what it was when read.
std::string read_all(const fs::path& p, bool& ok) {
    std::ifstream in(p, std::ios::binary);
    ok = in.good();
    std::error_code ec;
    const std::uintmax_t size = fs::is_regular_file(p, ec) ? fs::file_size(p, ec) : 0;
    if (ok && !ec && size > 0 && size < static_cast<std::uintmax_t>(INT_MAX)) {
        std::string bytes(static_cast<std::size_t>(size), '\0');
        in.read(bytes.data(), static_cast<std::streamsize>(size));
        if (in.gcount() == static_cast<std::streamsize>(size) &&
            in.peek() == std::ifstream::traits_type::eof()) {
            return bytes;
        }
        in.clear();  // it changed size since: read it as it is now
        in.seekg(0);
    }
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

using pb::internal::WireFormatLite;

// A descriptor database over the encoded files of a FileDescriptorSet that
// reads, at start, only each file's name and the names it defines at top
// level (the wire fields are skipped, not parsed); a file is parsed when the
// pool first asks for it. EncodedDescriptorDatabase parses every file up
// front, which costs more than building the few a document needs.
class IndexedFiles final : public pb::DescriptorDatabase {
public:
    // `bytes` must outlive the database.
    bool add(std::string_view bytes) {
        const auto index = files_.size();
        files_.push_back(bytes);
        pb::io::CodedInputStream in(reinterpret_cast<const std::uint8_t*>(bytes.data()),
                                    static_cast<int>(bytes.size()));
        std::string name;
        std::string package;
        std::vector<std::string> symbols;
        for (std::uint32_t tag = in.ReadTag(); tag != 0; tag = in.ReadTag()) {
            const std::uint32_t field = tag >> 3u;
            bool ok = true;
            switch (field) {
                case 1: ok = in.ReadString(&name, read_length(in)); break;
                case 2: ok = in.ReadString(&package, read_length(in)); break;
                case 4:  // message_type
                case 6:  // service
                    ok = read_names(in, 1, 0, symbols);
                    break;
                case 5:  // enum_type: its name and its values' (siblings in scope)
                    ok = read_names(in, 1, 2, symbols);
                    break;
                case 7: ok = read_extension(in, index, symbols); break;
                default: ok = WireFormatLite::SkipField(&in, tag); break;
            }
            if (!ok) {
                return false;
            }
        }
        const std::string prefix = package.empty() ? std::string() : package + ".";
        by_name_.emplace(name, index);
        for (const auto& symbol : symbols) {
            by_symbol_.emplace(prefix + symbol, index);
        }
        for (auto& [extendee, number] : pending_extensions_) {
            by_extension_.emplace(std::make_pair(absolute(extendee, package), number), index);
        }
        pending_extensions_.clear();
        return true;
    }

    bool FindFileByName(const std::string& filename, pb::FileDescriptorProto* output) override {
        auto it = by_name_.find(filename);
        return it != by_name_.end() && parse(it->second, output);
    }

    bool FindFileContainingSymbol(const std::string& symbol,
                                  pb::FileDescriptorProto* output) override {
        // "pkg.Message.Nested.field" is in the file that defines "pkg.Message".
        std::string_view name(symbol);
        for (;;) {
            auto it = by_symbol_.find(std::string(name));
            if (it != by_symbol_.end()) {
                return parse(it->second, output);
            }
            const auto dot = name.rfind('.');
            if (dot == std::string_view::npos) {
                return false;
            }
            name = name.substr(0, dot);
        }
    }

    bool FindFileContainingExtension(const std::string& containing_type, int field_number,
                                     pb::FileDescriptorProto* output) override {
        auto it = by_extension_.find({containing_type, field_number});
        return it != by_extension_.end() && parse(it->second, output);
    }

    bool FindAllExtensionNumbers(const std::string& extendee_type,
                                 std::vector<int>* output) override {
        bool found = false;
        for (const auto& [key, index] : by_extension_) {
            if (key.first == extendee_type) {
                output->push_back(key.second);
                found = true;
            }
        }
        return found;
    }

private:
    static int read_length(pb::io::CodedInputStream& in) {
        std::uint32_t length = 0;
        return in.ReadVarint32(&length) ? static_cast<int>(length) : -1;
    }

    // In a length-delimited message: field `name_field` (a string) and the
    // name (field 1) of each entry of `child_field` (0: none).
    static bool read_names(pb::io::CodedInputStream& in, std::uint32_t name_field,
                           std::uint32_t child_field, std::vector<std::string>& out) {
        const int length = read_length(in);
        if (length < 0) {
            return false;
        }
        const auto limit = in.PushLimit(length);
        std::string name;
        std::vector<std::string> children;
        for (std::uint32_t tag = in.ReadTag(); tag != 0; tag = in.ReadTag()) {
            const std::uint32_t field = tag >> 3u;
            bool ok = true;
            if (field == name_field) {
                ok = in.ReadString(&name, read_length(in));
            } else if (child_field != 0 && field == child_field) {
                ok = read_names(in, 1, 0, children);
            } else {
                ok = WireFormatLite::SkipField(&in, tag);
            }
            if (!ok) {
                return false;
            }
        }
        in.PopLimit(limit);
        out.push_back(std::move(name));
        for (auto& child : children) {
            out.push_back(std::move(child));
        }
        return true;
    }

    // A top-level extension: its name is a symbol; (extendee, number) is
    // indexed once the file's package is known.
    bool read_extension(pb::io::CodedInputStream& in, std::size_t, std::vector<std::string>& out) {
        const int length = read_length(in);
        if (length < 0) {
            return false;
        }
        const auto limit = in.PushLimit(length);
        std::string name;
        std::string extendee;
        std::uint32_t number = 0;
        for (std::uint32_t tag = in.ReadTag(); tag != 0; tag = in.ReadTag()) {
            bool ok = true;
            switch (tag >> 3u) {
                case 1: ok = in.ReadString(&name, read_length(in)); break;
                case 2: ok = in.ReadString(&extendee, read_length(in)); break;
                case 3: ok = in.ReadVarint32(&number); break;
                default: ok = WireFormatLite::SkipField(&in, tag); break;
            }
            if (!ok) {
                return false;
            }
        }
        in.PopLimit(limit);
        out.push_back(std::move(name));
        pending_extensions_.emplace_back(std::move(extendee), static_cast<int>(number));
        return true;
    }

    // protoc writes resolved type names with a leading dot.
    static std::string absolute(const std::string& type, const std::string& package) {
        if (!type.empty() && type[0] == '.') {
            return type.substr(1);
        }
        return package.empty() ? type : package + "." + type;
    }

    bool parse(std::size_t index, pb::FileDescriptorProto* output) const {
        const std::string_view bytes = files_[index];
        return output->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()));
    }

    struct PairHash {
        std::size_t operator()(const std::pair<std::string, int>& p) const noexcept {
            return std::hash<std::string>()(p.first) ^ static_cast<std::size_t>(p.second);
        }
    };

    std::vector<std::string_view> files_;
    std::unordered_map<std::string, std::size_t> by_name_;
    std::unordered_map<std::string, std::size_t> by_symbol_;
    std::unordered_map<std::pair<std::string, int>, std::size_t, PairHash> by_extension_;
    std::vector<std::pair<std::string, int>> pending_extensions_;
};

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
    auto database = std::make_unique<IndexedFiles>();
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
        if (!in.Skip(static_cast<int>(size)) || !database->add(std::string_view(bytes_).substr(
                                                    static_cast<std::size_t>(start), size))) {
            throw std::runtime_error("'" + set_path.string() + "' is not a FileDescriptorSet");
        }
        ++file_count_;
    }
    if (file_count_ == 0) {
        throw std::runtime_error("'" + set_path.string() + "' holds no file");
    }
    database_ = std::move(database);
    pool_ = std::make_unique<pb::DescriptorPool>(database_.get());
    // A file is built with its imports (only the files a document's types
    // need are ever built). Building imports only when a type from them is
    // first needed saves about 7 M instructions at start, but then every
    // message or enum field resolves its type through a std::call_once on
    // each use (a thread-local access each time), which the reader, the walk
    // and protobuf's reflection do some 100,000 times in a full check of a
    // 1,000-host RDS: 6 M instructions of its 93 M, on every full check.
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
