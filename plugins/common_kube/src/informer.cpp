#include "crossover_kube/informer.h"

#include <algorithm>

#include <Poco/JSON/Array.h>

#include "crossover_kube/json.h"

namespace crossover::kube {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

// "HTTP 403 Forbidden: configmaps is forbidden: ..." from an error response.
std::string describe_error(const Response& r) {
    std::string out = "HTTP " + std::to_string(r.status);
    if (!r.reason.empty()) {
        out += " " + r.reason;
    }
    std::string message;
    try {
        const auto obj = parse_object(r.body, "error");
        message = get_string(obj, "message");
    } catch (const std::exception&) {
        message = r.body.substr(0, 200);
    }
    if (!message.empty()) {
        out += ": " + message;
    }
    return out;
}

long long ceil_seconds(milliseconds ms) {
    return std::max<long long>(1, (ms.count() + 999) / 1000);
}

}  // namespace

// ---- Backoff ---------------------------------------------------------------

Backoff::Backoff(milliseconds initial, milliseconds max)
    : initial_(std::max(initial, milliseconds(1))),
      max_(std::max(max, initial_)),
      current_(initial_),
      rng_(std::random_device{}()) {}

milliseconds Backoff::next() {
    const auto d = current_.count();
    std::uniform_int_distribution<long long> dist(d / 2, d);
    const milliseconds out(dist(rng_));
    current_ = std::min(max_, current_ * 2);
    return std::max(out, milliseconds(1));
}

void Backoff::reset() {
    current_ = initial_;
}

// ---- helpers ---------------------------------------------------------------

std::string build_query(const std::string& collection, const Selection& selection,
                        const std::vector<std::pair<std::string, std::string>>& extra) {
    std::vector<std::pair<std::string, std::string>> params;
    if (!selection.label_selector.empty()) {
        params.emplace_back("labelSelector", selection.label_selector);
    }
    if (selection.names.size() == 1) {
        params.emplace_back("fieldSelector", "metadata.name=" + selection.names.front());
    }
    params.insert(params.end(), extra.begin(), extra.end());
    std::string out = collection;
    char sep = '?';
    for (const auto& [k, v] : params) {
        out += sep;
        out += url_encode(k);
        out += '=';
        out += url_encode(v);
        sep = '&';
    }
    return out;
}

void drop_writers_fields(const Poco::JSON::Object::Ptr& object, const InformerOptions& options) {
    if (object.isNull()) {
        return;
    }
    auto metadata = object->getObject("metadata");
    if (metadata.isNull()) {
        return;
    }
    metadata->remove("managedFields");
    if (!options.keep_last_applied) {
        if (auto annotations = metadata->getObject("annotations"); !annotations.isNull()) {
            annotations->remove("kubectl.kubernetes.io/last-applied-configuration");
        }
    }
}

WatchEvent decode_event(const std::string& line) {
    WatchEvent ev;
    const auto obj = parse_object(line, "watch event");
    ev.type = get_string(obj, "type");
    if (ev.type.empty()) {
        throw Error("watch event without a type");
    }
    ev.object = obj->getObject("object");
    if (ev.object.isNull()) {
        throw Error("watch event " + ev.type + " without an object");
    }
    return ev;
}

// ---- Informer --------------------------------------------------------------

Informer::Informer(Client& client, std::string collection_path, Selection selection,
                   InformerOptions options, LogFn log, std::function<bool()> debug_enabled)
    : client_(client),
      collection_(std::move(collection_path)),
      selection_(std::move(selection)),
      options_(options),
      log_(std::move(log)),
      debug_enabled_(std::move(debug_enabled)) {}

void Informer::log(LogLevel level, const std::string& message) const {
    if (log_) {
        log_(level, message);
    }
}

bool Informer::selected(const std::string& name) const {
    if (selection_.names.empty()) {
        return true;
    }
    return std::find(selection_.names.begin(), selection_.names.end(), name) !=
           selection_.names.end();
}

Informer::State Informer::list(std::string& resource_version) {
    const std::string path = build_query(collection_, selection_, {});
    const auto started = Clock::now();
    const Response r = client_.request("GET", path);
    if (r.status != 200) {
        throw StatusError(
            "list " + collection_ + " on " + client_.server() + ": " + describe_error(r), r.status);
    }
    listed_bytes_ = r.body.size();
    const auto obj = parse_object(r.body, "list " + collection_);
    resource_version = metadata_field(obj, "resourceVersion");
    State state;
    const auto items = obj->getArray("items");
    if (!items.isNull()) {
        for (std::size_t i = 0; i < items->size(); ++i) {
            const auto item = items->getObject(static_cast<unsigned int>(i));
            if (item.isNull()) {
                continue;
            }
            const std::string name = metadata_field(item, "name");
            if (!name.empty() && selected(name)) {
                drop_writers_fields(item, options_);
                state[name] = item;
            }
        }
    }
    log(LogLevel::Debug,
        "listed " + collection_ + ": " + std::to_string(state.size()) +
            " selected objects at resourceVersion " + resource_version + " in " +
            std::to_string(
                std::chrono::duration_cast<milliseconds>(Clock::now() - started).count()) +
            "ms");
    return state;
}

Informer::WatchEnd Informer::watch_once(SourceContext& context, const OnChange& on_change,
                                        bool& progressed) {
    milliseconds timeout = options_.watch_timeout;
    if (options_.resync.count() > 0) {
        const auto left =
            std::chrono::duration_cast<milliseconds>(last_list_ + options_.resync - Clock::now());
        timeout = std::min(timeout, std::max(left, milliseconds(1000)));
    }
    const long long timeout_s = ceil_seconds(timeout);
    const milliseconds read_timeout = options_.read_timeout.count() > 0
                                          ? options_.read_timeout
                                          : milliseconds(timeout_s * 1000 + 10000);
    std::vector<std::pair<std::string, std::string>> extra{{"watch", "true"}};
    if (!resource_version_.empty()) {
        extra.emplace_back("resourceVersion", resource_version_);
    }
    extra.emplace_back("allowWatchBookmarks", "true");
    extra.emplace_back("timeoutSeconds", std::to_string(timeout_s));
    const std::string path = build_query(collection_, selection_, extra);

    context.count("watches", 1);
    ++watches_since_list_;
    log(LogLevel::Debug, "watch " + collection_ + " from resourceVersion " + resource_version_ +
                             " (timeoutSeconds " + std::to_string(timeout_s) + ")");
    Response error;
    std::unique_ptr<Stream> stream;
    try {
        stream = client_.stream(path, read_timeout, error, listed_bytes_ + listed_bytes_ / 4);
    } catch (const Interrupted&) {
        throw;
    } catch (const std::exception& e) {
        problem(std::string("watch ") + collection_ + ": " + e.what());
        return WatchEnd::Unreachable;
    }
    if (!stream) {
        if (error.status == 410) {
            log(LogLevel::Info, "watch " + collection_ + " from resourceVersion " +
                                    resource_version_ + ": 410 Gone, relisting");
            context.count("gone_410", 1);
            return WatchEnd::Relist;
        }
        problem("watch " + collection_ + " on " + client_.server() + ": " + describe_error(error));
        return WatchEnd::Failed;
    }
    recovered();

    return read_events(context, *stream, on_change, progressed);
}

Informer::WatchEnd Informer::read_events(SourceContext& context, Stream& stream,
                                         const OnChange& on_change, bool& progressed) {
    // A change after a quiet stream is reported at once, together with the
    // events already read from the socket (a canary step waits for nothing).
    // A change that follows another within kBatchGap is part of a burst: it
    // waits for the next event as long as they keep coming within kBatchGap,
    // so a burst is reported once or a few times (see OnChange).
    int batched = 0;
    Clock::time_point batch_start{};
    Clock::time_point last_event{};
    const auto report = [&] {
        if (batched > 0) {
            if (debug()) {
                log(LogLevel::Debug,
                    "watch " + collection_ + ": " + std::to_string(batched) +
                        " changes reported together, the first read " +
                        std::to_string(std::chrono::duration_cast<std::chrono::microseconds>(
                                           Clock::now() - batch_start)
                                           .count()) +
                        "us ago");
            }
            context.count("reports", 1);
            batched = 0;
            on_change(state_);
        }
    };
    const auto changed = [&] {
        const auto now = Clock::now();
        const bool in_burst = now - last_event < kBatchGap;
        last_event = now;
        if (batched++ == 0) {
            batch_start = now;
        }
        const auto waited = now - batch_start;
        const bool full = batched >= kMaxBatch || waited >= kMaxBatchDelay;
        if (!full && stream.wait_line(milliseconds(0))) {
            return;  // the next event is already here: read it first
        }
        if (full || !in_burst) {
            report();
            return;
        }
        context.count("burst_waits", 1);
        if (!stream.wait_line(std::min(
                kBatchGap, std::chrono::duration_cast<milliseconds>(kMaxBatchDelay - waited)))) {
            report();
        }
    };
    try {
        const WatchEnd end = read_lines(context, stream, changed, progressed);
        report();
        return end;
    } catch (...) {
        if (!context.stopping()) {
            report();
        }
        throw;
    }
}

Informer::WatchEnd Informer::read_lines(SourceContext& context, Stream& stream,
                                        const std::function<void()>& changed, bool& progressed) {
    std::string line;
    for (;;) {
        try {
            if (!stream.next_line(line)) {
                return WatchEnd::Resume;
            }
        } catch (const Interrupted&) {
            throw;
        } catch (const ReadTimeout& e) {
            context.count("watch_timeouts", 1);
            log(LogLevel::Warn, "watch " + collection_ + ": " + e.what() + "; resuming");
            throw;
        }
        if (context.stopping()) {
            return WatchEnd::Resume;
        }
        WatchEvent ev;
        try {
            ev = decode_event(line);
        } catch (const std::exception& e) {
            log(LogLevel::Warn,
                "watch " + collection_ + ": undecodable event (" + e.what() + "); reconnecting");
            throw Error(e.what());
        }
        const std::string name = metadata_field(ev.object, "name");
        const std::string rv = metadata_field(ev.object, "resourceVersion");
        if (ev.type == "ERROR") {
            std::string code = get_string(ev.object, "code");
            const std::string message = get_string(ev.object, "message");
            if (code == "410") {
                log(LogLevel::Info, "watch " + collection_ + ": " + message + " (410), relisting");
                context.count("gone_410", 1);
                return WatchEnd::Relist;
            }
            problem("watch " + collection_ + ": error event " + code + ": " + message);
            context.count("watch_errors", 1);
            return WatchEnd::Failed;
        }
        progressed = true;
        if (!rv.empty()) {
            resource_version_ = rv;
        }
        if (ev.type == "BOOKMARK") {
            context.count("bookmarks", 1);
            log(LogLevel::Debug, "watch " + collection_ + ": BOOKMARK at resourceVersion " + rv);
            continue;
        }
        if (name.empty() || !selected(name)) {
            continue;
        }
        if (debug()) {
            log(LogLevel::Debug,
                "watch " + collection_ + ": " + ev.type + " " + name + " resourceVersion " + rv);
        }
        if (ev.type == "ADDED" || ev.type == "MODIFIED") {
            context.count(ev.type == "ADDED" ? "events_added" : "events_modified", 1);
            drop_writers_fields(ev.object, options_);
            state_[name] = ev.object;
            changed();
        } else if (ev.type == "DELETED") {
            context.count("events_deleted", 1);
            if (state_.erase(name) > 0) {
                changed();
            }
        } else {
            log(LogLevel::Debug, "watch " + collection_ + ": ignoring event type " + ev.type);
        }
    }
}

bool Informer::back_off(SourceContext& context, Backoff& backoff, bool reached,
                        const std::string& why, LogLevel level) {
    // An answer after no answer: the server is back, and what fails now is a new
    // failure that starts from the first delay, not the outage's longest one.
    if (reached && unreachable_) {
        backoff.reset();
    }
    unreachable_ = !reached;
    const auto delay = backoff.next();
    const std::string text = why + "; retrying in " + std::to_string(delay.count()) + "ms";
    if (level == LogLevel::Debug) {
        log(level, collection_ + ": " + text);
    } else {
        problem(why, text);
    }
    return context.sleep_for(delay);
}

void Informer::problem(const std::string& message, const std::string& text) {
    // The same failure again is news only at debug level; a new one is a warning.
    log(message == last_problem_ ? LogLevel::Debug : LogLevel::Warn, text.empty() ? message : text);
    last_problem_ = message;
}

void Informer::recovered() {
    if (!last_problem_.empty()) {
        log(LogLevel::Info, collection_ + ": recovered (after: " + last_problem_ + ")");
        last_problem_.clear();
    }
}

void Informer::run(SourceContext& context, const OnChange& on_change) {
    Backoff backoff(options_.backoff_initial, options_.backoff_max);
    bool need_list = true;
    bool first_list = true;
    while (!context.stopping() && !client_.interrupted()) {
        if (!need_list && options_.resync.count() > 0 &&
            Clock::now() - last_list_ >= options_.resync) {
            need_list = true;
            log(LogLevel::Debug, "resync: relisting " + collection_);
        }
        if (need_list) {
            try {
                std::string rv;
                State fresh = list(rv);
                state_ = std::move(fresh);
                resource_version_ = rv;
                last_list_ = Clock::now();
                watches_since_list_ = 0;
                unreachable_ = false;
                recovered();
                context.count("lists", 1);
                if (!first_list) {
                    context.count("relists", 1);
                }
                first_list = false;
                need_list = false;
                on_change(state_);
            } catch (const Interrupted&) {
                return;
            } catch (const std::exception& e) {
                context.count("list_errors", 1);
                if (!back_off(context, backoff, dynamic_cast<const StatusError*>(&e) != nullptr,
                              e.what(), LogLevel::Warn)) {
                    return;
                }
                continue;
            }
        }

        bool progressed = false;
        const auto started = Clock::now();
        WatchEnd end = WatchEnd::Failed;
        bool dropped = false;
        try {
            end = watch_once(context, on_change, progressed);
        } catch (const Interrupted&) {
            return;
        } catch (const std::exception& e) {
            // The stream broke after it was established (or timed out): resume.
            if (dynamic_cast<const ReadTimeout*>(&e) == nullptr) {
                log(LogLevel::Info, std::string("watch ") + collection_ + " dropped: " + e.what());
            }
            end = WatchEnd::Resume;
            dropped = true;
        }
        if (context.stopping() || client_.interrupted()) {
            return;
        }
        if (progressed) {
            backoff.reset();
            unreachable_ = false;
        }
        switch (end) {
            case WatchEnd::Relist:
                need_list = true;
                // A 410 is an answer from a working server: relist now, from the first delay
                // on. Only a 410 on the first watch after a list waits (a server that expires
                // every resourceVersion at once must not make us spin).
                if (watches_since_list_ > 1 || progressed) {
                    backoff.reset();
                    unreachable_ = false;
                    log(LogLevel::Debug, collection_ + ": relisting at once");
                } else if (!back_off(context, backoff, true,
                                     "410 on the first watch after a list")) {
                    return;
                }
                break;
            case WatchEnd::Resume: {
                context.count("watch_reconnects", 1);
                const bool long_lived = Clock::now() - started >= milliseconds(1000);
                if ((dropped || !(progressed || long_lived)) &&
                    !back_off(context, backoff, !dropped, "watch ended")) {
                    return;
                }
                break;
            }
            case WatchEnd::Failed:
            case WatchEnd::Unreachable:
                context.count("watch_failures", 1);
                if (!back_off(context, backoff, end == WatchEnd::Failed, "watch failed")) {
                    return;
                }
                break;
        }
    }
}

Status list_until_complete(SourceContext& context, Informer& informer,
                           std::chrono::steady_clock::time_point deadline,
                           std::chrono::milliseconds wait_timeout, const std::string& what,
                           const std::function<SnapshotPtr(const Informer::State&)>& build,
                           const LogFn& log_wait) {
    std::string problem;
    for (;;) {
        try {
            std::string rv;
            SnapshotPtr snap = build(informer.list(rv));
            if (snap->complete) {
                context.publish(snap);
                return Status::ok();
            }
            problem.clear();
            for (const auto& m : snap->missing) {
                problem += (problem.empty() ? "" : "; ") + m;
            }
        } catch (const Interrupted&) {
            return Status::error("interrupted while listing " + what);
        } catch (const std::exception& e) {
            problem = e.what();
        }
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        if (left.count() <= 0) {
            return Status::error("gave up after " + std::to_string(wait_timeout.count()) +
                                 "ms (wait_timeout): " + problem);
        }
        if (log_wait) {
            log_wait(LogLevel::Info, "waiting: " + problem);
        }
        if (!context.sleep_for(std::min(left, std::chrono::milliseconds(500)))) {
            return Status::error("stopped while waiting: " + problem);
        }
    }
}

}  // namespace crossover::kube
