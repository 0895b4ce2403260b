#include "crossover_kube/discovery.h"

#include <algorithm>

#include <Poco/JSON/Array.h>

#include "crossover_kube/json.h"

namespace crossover::kube {
namespace {

using Clock = std::chrono::steady_clock;

bool contains(const std::vector<std::string>& items, const std::string& v) {
    return std::find(items.begin(), items.end(), v) != items.end();
}

// "v1, v1beta1 or auto"
std::string either(const std::vector<std::string>& items, const std::string& last) {
    std::string out;
    for (std::size_t i = 0; i < items.size(); ++i) {
        out += i == 0 ? "" : ", ";
        out += items[i];
    }
    return out + (last.empty() ? "" : " or " + last);
}

}  // namespace

ChosenVersion choose_version(const ApiGroupVersions& api, const Poco::JSON::Object::Ptr& group) {
    std::vector<std::string> served;
    if (const auto versions = group->getArray("versions")) {
        for (std::size_t i = 0; i < versions->size(); ++i) {
            if (const auto v = versions->getObject(static_cast<unsigned>(i))) {
                served.push_back(get_string(v, "version"));
            }
        }
    }
    const std::string preferred = get_string(group->getObject("preferredVersion"), "version");
    if (api.server_preference_first && contains(api.supported, preferred)) {
        return {preferred, "the server's preferred version"};
    }
    for (const auto& v : api.supported) {
        if (contains(served, v)) {
            return {v, "the first of " + either(api.supported, "") +
                           " the server serves; it offers " + either(served, "")};
        }
    }
    throw Error("the API group " + api.group + " serves none of the " + api.kind +
                " versions supported (" + either(api.supported, "") + "); the server offers " +
                (served.empty() ? std::string("no versions") : either(served, "")) +
                (preferred.empty() ? std::string() : " (preferred " + preferred + ")"));
}

std::string discover_version(Client& client, SourceContext& context, const ApiGroupVersions& api,
                             const std::string& configured, const InformerOptions& options,
                             bool onetime, Clock::time_point deadline, const LogFn& log) {
    if (configured != "auto") {
        return configured;
    }
    Backoff backoff(options.backoff_initial, options.backoff_max);
    for (;;) {
        std::string problem;
        try {
            const Response r = client.request("GET", "/apis/" + api.group);
            if (r.status == 200) {
                const ChosenVersion chosen =
                    choose_version(api, parse_object(r.body, "API discovery of " + api.group));
                log(LogLevel::Info,
                    api.kind + " API version " + chosen.version + " (" + chosen.reason + ")");
                return chosen.version;
            }
            if (r.status == 404) {
                problem = "the API group " + api.group + " is not served by " + client.server() +
                          (api.missing_hint.empty() ? "" : " " + api.missing_hint);
            } else {
                problem = "API discovery of " + api.group + ": HTTP " + std::to_string(r.status) +
                          " " + r.reason;
            }
        } catch (const Interrupted&) {
            throw;
        } catch (const std::exception& e) {
            problem = e.what();
        }
        context.count("discovery_errors", 1);
        const auto delay = backoff.next();
        if (onetime && Clock::now() + delay >= deadline) {
            throw Error(problem);
        }
        log(LogLevel::Warn, problem + "; retrying in " + std::to_string(delay.count()) + "ms");
        if (!context.sleep_for(delay)) {
            throw Interrupted();
        }
    }
}

}  // namespace crossover::kube
