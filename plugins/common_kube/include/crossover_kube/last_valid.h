// The last valid version of each watched object, for sources that check what
// they publish: an object whose resourceVersion did not change is not checked
// again; a refused object is logged once per distinct message and its last
// valid version is kept (a never-valid one is left out), so one bad object
// neither poisons the others nor loses the last good output.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "crossover_kube/client.h"
#include "crossover_kube/informer.h"
#include "crossover_kube/json.h"

namespace crossover::kube {

template <typename T>
class LastValid {
public:
    using Ptr = std::shared_ptr<const T>;
    // Checks and converts one object; throws crossover::Error naming it.
    using Convert = std::function<Ptr(const Poco::JSON::Object::Ptr&)>;
    LastValid(Convert convert, LogFn log) : convert_(std::move(convert)), log_(std::move(log)) {}

    // The valid objects of `state` by name.
    std::map<std::string, Ptr> update(const Informer::State& state) {
        std::map<std::string, Kept> valid;
        for (const auto& [name, json] : state) {
            const auto last = last_.find(name);
            // Read through another version, the same resourceVersion is another object.
            const std::string version =
                metadata_field(json, "resourceVersion") + " " + get_string(json, "apiVersion");
            if (last != last_.end() && !metadata_field(json, "resourceVersion").empty() &&
                last->second.version == version) {
                valid[name] = last->second;
                continue;
            }
            try {
                valid[name] = Kept{version, convert_(json)};
                reported_.erase(name);
            } catch (const std::exception& e) {
                if (reported_[name] != e.what()) {
                    reported_[name] = e.what();
                    log_(LogLevel::Error,
                         std::string(e.what()) + (last != last_.end()
                                                      ? "; keeping the last valid version"
                                                      : std::string("; skipped")));
                }
                if (last != last_.end()) {
                    valid[name] = last->second;
                }
            }
        }
        for (auto it = reported_.begin(); it != reported_.end();) {
            it = state.count(it->first) != 0 ? std::next(it) : reported_.erase(it);
        }
        last_ = std::move(valid);
        std::map<std::string, Ptr> out;
        for (const auto& [name, kept] : last_) {
            out.emplace(name, kept.value);
        }
        return out;
    }

private:
    struct Kept {
        std::string version;  // "<resourceVersion> <apiVersion>"
        Ptr value;
    };
    Convert convert_;
    LogFn log_;
    std::map<std::string, Kept> last_;
    std::map<std::string, std::string> reported_;  // name -> last message logged
};

}  // namespace crossover::kube
