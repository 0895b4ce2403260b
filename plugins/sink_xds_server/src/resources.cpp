#include "resources.h"

#include <Poco/DigestEngine.h>
#include <Poco/SHA1Engine.h>

#include <utility>

namespace crossover::xds_server {

int push_rank(std::string_view type_url) noexcept {
    if (type_url == kClusterType) {
        return 0;
    }
    if (type_url == kEndpointType) {
        return 1;
    }
    if (type_url == kListenerType) {
        return 2;
    }
    if (type_url == kRouteType) {
        return 3;
    }
    return 4;
}

bool served_type(std::string_view type_url) noexcept {
    if (type_url.substr(0, xds::kTypeUrlPrefix.size()) != xds::kTypeUrlPrefix) {
        return false;
    }
    const xds::TypeInfo info = xds::type_info(type_url);
    return info.kind != xds::ResourceKind::Unknown && !info.v2;
}

bool wildcard_by_default(std::string_view type_url) noexcept {
    return type_url == kClusterType || type_url == kListenerType;
}

namespace {

std::string hex16(const Poco::DigestEngine::Digest& digest) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    for (std::size_t i = 0; i < 8 && i < digest.size(); ++i) {
        out += kHex[digest[i] >> 4U];
        out += kHex[digest[i] & 0xfU];
    }
    return out;
}

}  // namespace

std::string content_version(std::string_view bytes) {
    Poco::SHA1Engine engine;
    engine.update(bytes.data(), static_cast<unsigned>(bytes.size()));
    return hex16(engine.digest());
}

ResourceSet::ResourceSet(std::vector<ResourcePtr> resources) {
    for (auto& r : resources) {
        TypeResources& t = types_[r->type_url];
        t.type_url = r->type_url;
        const std::string name = r->name;
        t.by_name.insert_or_assign(name, std::move(r));
    }
    for (auto& [type_url, t] : types_) {
        // The version covers names and contents: a rename or a move of bytes
        // from one resource to another changes it too.
        Poco::SHA1Engine engine;
        for (const auto& [name, r] : t.by_name) {
            engine.update(name);
            engine.update('\0');
            engine.update(r->version);
            engine.update('\0');
            t.all_entries += r->sotw_entry;
        }
        t.version = hex16(engine.digest());
    }
    empty_.version = content_version({});
}

const TypeResources& ResourceSet::type(std::string_view type_url) const {
    const auto it = types_.find(type_url);
    return it != types_.end() ? it->second : empty_;
}

}  // namespace crossover::xds_server
