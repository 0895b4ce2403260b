// The fault suite's rig: the test Kubernetes API server over TLS, the real
// crossover binary running a pipeline against it (kubernetes_configmap ->
// envoy_validate -> symlink), and the checks on the output directory.
#pragma once

#include <sys/mount.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "content_hash.h"
#include "fake_apiserver.h"
#include "process.h"

namespace crossover::faults {

namespace fs = std::filesystem;
using Files = std::map<std::string, std::string>;
using namespace std::chrono_literals;

// How long any single wait may take before it counts as a failure. Generous:
// the machine is shared and the suite must not be flaky under load.
inline constexpr std::chrono::milliseconds kDeadline = 45s;

inline const std::string kNamespace = "faults";
inline const std::string kConfigMap = "envoy-xds";

// One summary line per case, printed and kept in $CROSSOVER_FAULTS_SUMMARY_DIR
// for the summary test that runs last.
struct Summary {
    explicit Summary(std::string case_name) : name(std::move(case_name)) {}
    std::string name;
    int trials = 0;
    int failures = 0;
    int lost = 0;
    std::string note;

    [[nodiscard]] std::string line() const {
        std::string l = name + ": " + std::to_string(trials) + " trials, " +
                        std::to_string(failures) + " failures, " + std::to_string(lost) +
                        " lost updates";
        if (!note.empty()) {
            l += " (" + note + ")";
        }
        return l;
    }
    void publish() const {
        const std::string l = line();
        std::printf("SUMMARY %s\n", l.c_str());
        std::fflush(stdout);
        const std::string dir = test::env_or("CROSSOVER_FAULTS_SUMMARY_DIR");
        if (!dir.empty()) {
            std::error_code ec;
            fs::create_directories(dir, ec);
            std::ofstream(dir + "/" + name + ".txt") << l << "\n";
        }
    }
};

// The xDS files of update number `n`: the fixtures' LDS, RDS and CDS with the
// version and the canary weight derived from n, so every update differs.
inline Files xds_update(int n) {
    const std::string fixtures = test::fixtures_dir() + "/xds/";
    Files files;
    for (const char* name : {"lds.yaml", "rds.yaml", "cds.yaml"}) {
        std::string text = test::read_text(fixtures + name);
        const std::string marker = "version_info: \"1\"";
        const auto at = text.find(marker);
        if (at != std::string::npos) {
            text.replace(at, marker.size(), "version_info: \"" + std::to_string(n) + "\"");
        }
        files[name] = text;
    }
    std::string& rds = files["rds.yaml"];
    const int canary = n % 101;
    for (const auto& [from, to] : {std::pair<std::string, std::string>{
                                       "weight: 100", "weight: " + std::to_string(100 - canary)},
                                   {"weight: 0", "weight: " + std::to_string(canary)}}) {
        const auto at = rds.find(from);
        if (at != std::string::npos) {
            rds.replace(at, from.size(), to);
        }
    }
    return files;
}

inline std::string configmap_json(const Files& data) {
    using testing::fake_apiserver_detail::json_quote;
    std::string j = R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":)" +
                    json_quote(kConfigMap) + R"(,"namespace":)" + json_quote(kNamespace) +
                    R"(},"data":{)";
    bool first = true;
    for (const auto& [k, v] : data) {
        if (!first) {
            j += ',';
        }
        first = false;
        j += json_quote(k) + ":" + json_quote(v);
    }
    return j + "}}";
}

// Empty when DIR/current is a complete version directory (a symlink to a
// directory of DIR holding exactly `want` and a manifest that lists it);
// otherwise what is wrong.
inline std::string output_mismatch(const std::string& dir, const Files& want) {
    std::error_code ec;
    const fs::path cur = fs::path(dir) / "current";
    if (!fs::is_symlink(cur, ec)) {
        return "no current symlink";
    }
    const fs::path target = fs::read_symlink(cur, ec);
    if (ec) {
        return "cannot read the current symlink";
    }
    const fs::path vdir =
        (target.is_absolute() ? target : fs::path(dir) / target).lexically_normal();
    if (vdir.parent_path() != fs::path(dir).lexically_normal()) {
        return "current points outside the output directory: " + target.string();
    }
    if (!fs::is_directory(vdir, ec)) {
        return "current is dangling: " + target.string();
    }
    Files got;
    std::string manifest;
    for (const auto& e : fs::directory_iterator(vdir, ec)) {
        const std::string name = e.path().filename().string();
        if (!e.is_regular_file()) {
            return "not a regular file: " + name;
        }
        if (name == ".manifest") {
            manifest = test::read_text(e.path().string());
        } else {
            got[name] = test::read_text(e.path().string());
        }
    }
    if (ec) {
        return "cannot list " + vdir.string();
    }
    // Format 2 since content hashes follow the change; format 1 as earlier releases wrote it.
    const bool format2 = manifest.rfind("crossover-manifest 2\n", 0) == 0;
    if ((!format2 && manifest.rfind("crossover-manifest 1\n", 0) != 0) ||
        manifest.find("\nend " + std::to_string(got.size()) + "\n") == std::string::npos) {
        return "incomplete manifest in " + vdir.filename().string();
    }
    if (format2) {
        // Every line `<size> <hash> <name>` matches its file (ConfigMap keys need no escaping).
        std::istringstream lines(manifest.substr(manifest.find('\n') + 1));
        std::string size;
        std::string hash;
        std::string name;
        std::size_t listed = 0;
        while (lines >> size && size != "end" && lines >> hash >> name) {
            const auto it = got.find(name);
            char hex[17] = {};
            if (it != got.end()) {
                std::snprintf(hex, sizeof hex, "%016llx",
                              static_cast<unsigned long long>(
                                  crossover::sink_symlink::chunked_hash(it->second).hash));
            }
            if (it == got.end() || size != std::to_string(it->second.size()) || hash != hex) {
                return "manifest line for " + name + " does not match the file in " +
                       vdir.filename().string();
            }
            ++listed;
        }
        if (listed != got.size()) {
            return "manifest lists " + std::to_string(listed) + " of " +
                   std::to_string(got.size()) + " files in " + vdir.filename().string();
        }
    }
    if (got != want) {
        std::string why = "content differs from the expected input:";
        int shown = 0;
        for (const auto& [k, v] : want) {
            const auto it = got.find(k);
            if (it == got.end() || it->second != v) {
                why += (it == got.end() ? " missing " : " differs ") + k;
                if (++shown == 3) {
                    return why;
                }
            }
        }
        for (const auto& kv : got) {
            if (want.count(kv.first) == 0) {
                why += " extra " + kv.first;
                if (++shown == 3) {
                    return why;
                }
            }
        }
        return why;
    }
    // Valid: every YAML file parses (the xDS ones were accepted by envoy_validate).
    for (const auto& [k, v] : got) {
        if (k.size() > 5 && k.compare(k.size() - 5, 5, ".yaml") == 0 && v.size() < (1U << 20)) {
            try {
                (void)YAML::Load(v);
            } catch (const YAML::Exception& e) {
                return k + " is not valid YAML: " + e.what();
            }
        }
    }
    return {};
}

// A tmpfs mounted on a directory for the lifetime of the object (root only).
class Tmpfs {
public:
    Tmpfs(const std::string& where, const std::string& size) : where_(where) {
        fs::create_directories(where);
        const std::string opts = "size=" + size + ",mode=0755";
        mounted_ = ::mount("tmpfs", where.c_str(), "tmpfs", 0, opts.c_str()) == 0;
    }
    ~Tmpfs() {
        if (mounted_) {
            ::umount2(where_.c_str(), MNT_DETACH);
        }
    }
    Tmpfs(const Tmpfs&) = delete;
    Tmpfs& operator=(const Tmpfs&) = delete;
    [[nodiscard]] bool mounted() const { return mounted_; }
    bool set_read_only(bool ro) {
        unsigned long flags = MS_REMOUNT;
        if (ro) {
            flags |= MS_RDONLY;
        }
        return ::mount("tmpfs", where_.c_str(), "tmpfs", flags, nullptr) == 0;
    }

private:
    std::string where_;
    bool mounted_ = false;
};

struct RigOptions {
    bool persist_api_state = false;  // the API server keeps its state across restart()
    std::string read_timeout = "0";  // the watch's read_timeout option
    std::string token_refresh = "60s";
    std::string out_dir;              // default: <tmp>/out
    std::string retry_max = "500ms";  // the engine's retry of a failed sink
    bool validate = true;             // envoy_validate between the source and the sink
};

class Rig {
public:
    explicit Rig(RigOptions options = {}) : options_(std::move(options)) {
        testing::FakeApiServer::Options o;
        if (options_.persist_api_state) {
            o.state_file = tmp_ / "apiserver-state.json";
        }
        api_ = std::make_unique<testing::FakeApiServer>(o);
        out_ = options_.out_dir.empty() ? tmp_ / "out" : options_.out_dir;
        write_pipeline();
    }
    Rig(const Rig&) = delete;
    Rig& operator=(const Rig&) = delete;
    ~Rig() { proc_.reset(); }

    testing::FakeApiServer& api() { return *api_; }
    [[nodiscard]] const std::string& out() const { return out_; }
    [[nodiscard]] const std::string& tmp() const { return tmp_.path(); }
    test::Process& proc() { return *proc_; }
    [[nodiscard]] const Files& last_good() const { return last_good_; }

    // Applies `data` as the ConfigMap; `good` inputs become the expected output.
    void apply(const Files& data, bool good = true) {
        api_->apply(configmap_json(data));
        if (good) {
            last_good_ = data;
        }
    }

    void start() {
        proc_ = std::make_unique<test::Process>(
            std::vector<std::string>{test::crossover_bin(), "run", tmp_ / "pipeline.yaml",
                                     "--log-level", "info", "--listen", "off"},
            tmp_.path());
    }
    bool running() { return proc_ && proc_->running(); }
    // Stops crossover with `sig` and returns its exit code (-1: did not exit in time).
    int stop(int sig) {
        if (!proc_) {
            return 0;
        }
        proc_->signal(sig);
        const int code = proc_->wait(kDeadline);
        log_ += proc_->err();
        if (code == -1) {
            proc_->signal(SIGKILL);
            proc_->wait(kDeadline);
        }
        proc_.reset();
        return code;
    }

    [[nodiscard]] std::string mismatch() const { return output_mismatch(out_, last_good_); }
    // Waits until the output equals the last good input; false (a lost update) when it
    // does not within the deadline.
    bool converges(std::chrono::milliseconds deadline = kDeadline) const {
        return test::eventually([&] { return mismatch().empty(); }, deadline);
    }

    // Errors crossover logged so far (lines "<ts> error [component] ...").
    [[nodiscard]] int error_count() const {
        const std::string err = (proc_ ? proc_->err() : std::string());
        int n = 0;
        for (std::size_t at = err.find(" error ["); at != std::string::npos;
             at = err.find(" error [", at + 1)) {
            ++n;
        }
        return n;
    }
    // Waits until crossover has logged more than `before` errors.
    bool new_error(int before) const {
        return test::eventually([&] { return error_count() > before; }, kDeadline);
    }
    [[nodiscard]] std::string stderr_text() const {
        return log_ + (proc_ ? proc_->err() : std::string());
    }
    [[nodiscard]] std::string stderr_tail(std::size_t n = 2000) const {
        const std::string all = stderr_text();
        return all.size() > n ? all.substr(all.size() - n) : all;
    }

private:
    void write_pipeline() {
        std::ostringstream p;
        p << "engine: {debounce: 5ms, max_delay: 100ms, retry_initial: 50ms, retry_max: "
          << options_.retry_max << "}\n"
          << "sources:\n"
          << "  xds:\n"
          << "    type: kubernetes_configmap\n"
          << "    apiserver: " << api_->url() << "\n"
          << "    ca_file: " << api_->ca_file() << "\n"
          << "    token_file: " << api_->token_file() << "\n"
          << "    namespace: " << kNamespace << "\n"
          << "    names: [" << kConfigMap << "]\n"
          << "    connect_timeout: 5s\n"
          << "    request_timeout: 20s\n"
          << "    backoff_initial: 50ms\n"
          << "    backoff_max: 500ms\n"
          << "    read_timeout: " << options_.read_timeout << "\n"
          << "    token_refresh: " << options_.token_refresh << "\n"
          << (options_.validate ? "transforms:\n  checked: {type: envoy_validate, inputs: [xds]}\n"
                                : "")
          << "sinks:\n"
          << "  out: {type: symlink, inputs: [" << (options_.validate ? "checked" : "xds")
          << "], dir: " << out_ << "}\n";
        test::write_text(tmp_ / "pipeline.yaml", p.str());
    }

    RigOptions options_;
    test::TempDir tmp_;
    std::unique_ptr<testing::FakeApiServer> api_;
    std::string out_;
    std::unique_ptr<test::Process> proc_;
    Files last_good_;
    std::string log_;
};

}  // namespace crossover::faults
