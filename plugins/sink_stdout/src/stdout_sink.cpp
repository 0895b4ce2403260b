#include "stdout_sink.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <vector>

namespace crossover::sink_stdout {

namespace {

// One lock for every stdout sink in the process, so two sinks never
// interleave their output.
std::mutex& output_mutex() {
    static std::mutex m;
    return m;
}

}  // namespace

std::string render(const Snapshot& snapshot, Format format) {
    std::vector<const Document*> docs;
    for (const auto& d : snapshot.documents) {
        if (d) {
            docs.push_back(d.get());
        }
    }
    std::stable_sort(docs.begin(), docs.end(),
                     [](const Document* a, const Document* b) { return a->name < b->name; });
    std::string out;
    for (const Document* d : docs) {
        if (format == Format::Headers) {
            out += "--- # ";
            // Keep the header on one line whatever the name holds.
            for (const char c : d->name) {
                out += (c == '\n' || c == '\r' || c == '\0') ? '?' : c;
            }
            out += '\n';
        }
        out += d->content;
        if (format == Format::Headers && !d->content.empty() && d->content.back() != '\n') {
            out += '\n';
        }
    }
    return out;
}

StdoutSink::StdoutSink(const ComponentConfig& config, const StdoutOptions& options)
    : prefix_((config.path.empty() ? config.name : config.path) + ": "),
      format_(options.format == "raw" ? Format::Raw : Format::Headers) {}

Status StdoutSink::write(const Snapshot& snapshot, WriteOutcome& outcome) noexcept {
    outcome = WriteOutcome::Unchanged;
    return guard([&]() -> Status {
        std::map<std::string, std::string> now;
        for (const auto& d : snapshot.documents) {
            if (d) {
                now[d->name] = d->content;
            }
        }
        if (printed_ && now == last_) {
            return Status::ok();
        }
        const std::string text = render(snapshot, format_);
        {
            // A single write call where the kernel allows it; partial writes
            // (pipes, signals) are finished under the same lock.
            std::lock_guard<std::mutex> lock(output_mutex());
            const char* p = text.data();
            std::size_t left = text.size();
            while (left > 0) {
                const ssize_t n = ::write(fd_, p, left);
                if (n < 0) {
                    if (errno == EINTR) {
                        continue;
                    }
                    const int err = errno;
                    throw Error(prefix_ + "cannot write to standard output: " + std::strerror(err));
                }
                p += n;
                left -= static_cast<std::size_t>(n);
            }
        }
        last_ = std::move(now);
        printed_ = true;
        outcome = WriteOutcome::Written;
        return Status::ok();
    });
}

namespace {
const OptionTable<StdoutOptions> kOptions{
    option("format", &StdoutOptions::format,
           "headers: a '--- # NAME' line before each document (a valid YAML stream); raw: the "
           "documents' bytes only.")
        .choices({"headers", "raw"}),
};
}  // namespace

}  // namespace crossover::sink_stdout

CROSSOVER_PLUGIN(crossover::Kind::Sink, crossover::sink_stdout::StdoutSink, "stdout",
                 "Prints the documents to standard output, each under a header line naming it; "
                 "prints again only when something changed. Used by --dry-run.",
                 crossover::sink_stdout::kOptions)
