// `file` source: Kubernetes manifests (or plain files) from disk, optionally
// watched with inotify. Editors that save by writing a temporary file and
// renaming it over the original are handled by watching the parent directory.
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "crossover/sdk.h"
#include "manifest_reader.h"

namespace crossover::file_source {

namespace {

namespace fs = std::filesystem;

struct FileOptions {
    std::vector<std::string> paths;
    bool watch = false;
    std::chrono::milliseconds settle{2};
};

const OptionTable<FileOptions> kOptions{
    option("paths", &FileOptions::paths, "Manifest files or directories (*.yaml, *.yml, *.json)")
        .required()
        .path()
        .check(checks::not_empty),
    option("watch", &FileOptions::watch, "Re-read on changes (inotify), including saves by rename"),
    option("settle", &FileOptions::settle,
           "After a change, wait this long for more changes before re-reading"),
};

class FileSource final : public Source {
public:
    FileSource(const ComponentConfig& config, const FileOptions& options)
        : config_(config), watch_(options.watch), settle_(options.settle) {
        for (const auto& p : options.paths) {
            paths_.push_back(fs::path(p).lexically_normal().string());
        }
        stop_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (stop_fd_ < 0) {
            throw Error(config.where() + "eventfd failed");
        }
    }

    ~FileSource() override {
        if (stop_fd_ >= 0) {
            ::close(stop_fd_);
        }
    }

    FileSource(const FileSource&) = delete;
    FileSource& operator=(const FileSource&) = delete;
    FileSource(FileSource&&) = delete;
    FileSource& operator=(FileSource&&) = delete;

    Status run(SourceContext& context) noexcept override {
        return guard([&] { return run_impl(context); });
    }

    void stop() noexcept override {
        const std::uint64_t one = 1;
        [[maybe_unused]] const auto n = ::write(stop_fd_, &one, sizeof one);
    }

private:
    // Raw bytes of every file, to skip re-parsing when nothing changed.
    using Contents = std::map<std::string, std::string>;

    // A file that cannot be read is missing, except one that is not a
    // regular file (a FIFO would block the read forever): that is an error,
    // kept in `refused` until parse() reports it.
    Contents read_all(std::vector<std::string>& missing, std::string& refused) const {
        Contents out;
        for (const auto& f : expand_paths(paths_, missing)) {
            std::string problem;
            auto text = read_regular_file(f, problem);
            if (!text) {
                if (problem.rfind("not a regular file", 0) == 0) {
                    refused = f + ": " + problem + "; give manifest files or directories";
                } else {
                    missing.push_back("file " + f + " (" + problem + ")");
                }
                continue;
            }
            out[f] = std::move(*text);
        }
        return out;
    }

    SnapshotPtr parse(const Contents& contents, std::vector<std::string> missing,
                      const std::string& refused) const {
        if (!refused.empty()) {
            throw Error(refused);
        }
        auto snap = std::make_shared<Snapshot>();
        for (const auto& [file, text] : contents) {
            add_manifest_text(text, file, *snap);
        }
        // Files that are empty (a save in progress) count as missing.
        missing.insert(missing.end(), snap->missing.begin(), snap->missing.end());
        std::sort(snap->documents.begin(), snap->documents.end(),
                  [](const DocumentPtr& a, const DocumentPtr& b) { return a->name < b->name; });
        std::sort(snap->objects.begin(), snap->objects.end(),
                  [](const ObjectPtr& a, const ObjectPtr& b) {
                      return std::tie(a->ref.kind, a->ref.ns, a->ref.name) <
                             std::tie(b->ref.kind, b->ref.ns, b->ref.name);
                  });
        snap->complete = missing.empty();
        snap->missing = missing;
        return snap;
    }

    // Loads and publishes if anything changed. Returns the error, if any.
    Status reload(SourceContext& context, bool force) {
        std::vector<std::string> missing;
        std::string refused;
        Contents contents = read_all(missing, refused);
        if (!force && have_last_ && contents == last_contents_ && missing == last_missing_ &&
            refused.empty()) {
            return Status::ok();
        }
        SnapshotPtr snap;
        try {
            snap = parse(contents, missing, refused);
        } catch (const std::exception& e) {
            // Keep the last good snapshot: remember the bad bytes so the same
            // error is not logged on every unrelated event.
            last_contents_ = std::move(contents);
            last_missing_ = std::move(missing);
            have_last_ = true;
            return Status::error(std::string(e.what()) + "; keeping the last good input");
        }
        last_contents_ = std::move(contents);
        last_missing_ = std::move(missing);
        have_last_ = true;
        if (!snap->complete) {
            std::string m;
            for (const auto& x : snap->missing) {
                m += (m.empty() ? "" : ", ") + x;
            }
            config_.log(LogLevel::Warn, "missing " + m + "; keeping the last output");
        }
        context.publish(std::move(snap));
        return Status::ok();
    }

    void add_watches(int fd) const {
        constexpr std::uint32_t mask = IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE |
                                       IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF | IN_ATTRIB;
        std::set<std::string> dirs;
        for (const auto& p : paths_) {
            std::error_code ec;
            if (fs::is_directory(p, ec)) {
                dirs.insert(p);
            }
            const std::string parent = fs::path(p).parent_path().string();
            dirs.insert(parent.empty() ? "." : parent);
        }
        for (const auto& d : dirs) {
            // Fails harmlessly for a directory that does not exist yet; the
            // next reload tries again.
            ::inotify_add_watch(fd, d.c_str(), mask);
        }
    }

    Status run_impl(SourceContext& context) {
        if (!watch_ || config_.onetime) {
            std::vector<std::string> missing;
            std::string refused;
            Contents contents = read_all(missing, refused);
            SnapshotPtr snap = parse(contents, missing, refused);
            if (!snap->complete && config_.onetime) {
                std::string m;
                for (const auto& x : snap->missing) {
                    m += (m.empty() ? "" : ", ") + x;
                }
                return Status::error("missing " + m);
            }
            context.publish(std::move(snap));
            return Status::ok();
        }
        const int fd = ::inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
        if (fd < 0) {
            return Status::error("inotify_init1 failed");
        }
        struct Closer {
            int fd;
            ~Closer() { ::close(fd); }
        } closer{fd};
        add_watches(fd);
        if (Status s = reload(context, true); !s) {
            config_.log(LogLevel::Error, s.message());
        }
        std::vector<char> buf(std::size_t{64} * 1024);
        while (!context.stopping()) {
            pollfd fds[2] = {{fd, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
            const int n = ::poll(fds, 2, 1000);
            if (n < 0 && errno != EINTR) {
                return Status::error("poll failed");
            }
            if ((fds[1].revents & POLLIN) != 0) {
                break;
            }
            if (n <= 0 || (fds[0].revents & POLLIN) == 0) {
                continue;
            }
            // Drain, then let a burst settle so one save is one reload.
            do {
                while (::read(fd, buf.data(), buf.size()) > 0) {
                }
                pollfd again{fd, POLLIN, 0};
                if (::poll(&again, 1, static_cast<int>(settle_.count())) <= 0) {
                    break;
                }
            } while (!context.stopping());
            add_watches(fd);
            if (Status s = reload(context, false); !s) {
                config_.log(LogLevel::Error, s.message());
            }
        }
        return Status::ok();
    }

    ComponentConfig config_;
    std::vector<std::string> paths_;
    bool watch_ = false;
    std::chrono::milliseconds settle_{2};
    int stop_fd_ = -1;
    Contents last_contents_;
    std::vector<std::string> last_missing_;
    bool have_last_ = false;
};

}  // namespace

}  // namespace crossover::file_source

CROSSOVER_PLUGIN(crossover::Kind::Source, crossover::file_source::FileSource, "file",
                 "Reads Kubernetes manifests from files: each ConfigMap key becomes a document, "
                 "TrafficSplits and other objects are kept for transforms; a file that is not a "
                 "manifest becomes one document named after the file.",
                 crossover::file_source::kOptions)
