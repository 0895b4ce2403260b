// Test helper: runs tests/kube_apiserver/fake_kube_apiserver.py as a child
// process on loopback and drives its control port.
//
//   crossover::testing::FakeApiServer api;        // HTTPS, random token
//   api.apply(R"({"kind":"ConfigMap", ...})");    // JSON or YAML (multi-document)
//   Poco HTTPS client -> api.url(), trust api.ca_file(), token from api.token_file()
//   api.drop_streams(); api.fail_next(3, 500, "/configmaps"); api.compact();
//   api.request_count("GET", "watch=") ...
//
// Header-only. Needs POSIX and yaml-cpp (for YAML input to apply()); no Boost,
// no Poco. The server script is found through, in order: Options::script,
// $CROSSOVER_FAKE_APISERVER, the CROSSOVER_FAKE_APISERVER_SCRIPT macro,
// $CROSSOVER_SOURCE_DIR/tests/kube_apiserver/fake_kube_apiserver.py.
// python3 is taken from PATH (or $CROSSOVER_PYTHON).
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace crossover::testing {

namespace fake_apiserver_detail {

inline std::string json_quote(std::string_view s) {
    std::string out;
    out.reserve(s.size() + 2);
    out.push_back('"');
    for (char c : s) {
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            case '\b': out += "\\b"; break;
            case '\f': out += "\\f"; break;
            default:
                if (static_cast<unsigned char>(c) < 0x20) {
                    char buf[8];
                    std::snprintf(buf, sizeof buf, "\\u%04x",
                                  static_cast<unsigned>(static_cast<unsigned char>(c)));
                    out += buf;
                } else {
                    out.push_back(c);
                }
        }
    }
    out.push_back('"');
    return out;
}

// Value of a top-level-ish "key": <string or number> in a JSON text written by
// the server's json.dumps (simple escapes only). Empty when absent.
inline std::string json_field(std::string_view text, std::string_view key) {
    const std::string needle = "\"" + std::string(key) + "\"";
    auto pos = text.find(needle);
    if (pos == std::string_view::npos) return {};
    pos = text.find(':', pos + needle.size());
    if (pos == std::string_view::npos) return {};
    ++pos;
    while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\t')) ++pos;
    if (pos >= text.size()) return {};
    std::string out;
    if (text[pos] == '"') {
        for (++pos; pos < text.size() && text[pos] != '"'; ++pos) {
            if (text[pos] == '\\' && pos + 1 < text.size()) {
                ++pos;
                switch (text[pos]) {
                    case 'n': out.push_back('\n'); break;
                    case 't': out.push_back('\t'); break;
                    case 'r': out.push_back('\r'); break;
                    default: out.push_back(text[pos]);
                }
            } else {
                out.push_back(text[pos]);
            }
        }
        return out;
    }
    while (pos < text.size() && text[pos] != ',' && text[pos] != '}' && text[pos] != ' ')
        out.push_back(text[pos++]);
    return out;
}

inline bool plain_is_number(const std::string& s) {
    if (s.empty()) return false;
    std::size_t i = (s[0] == '-' || s[0] == '+') ? 1 : 0;
    if (i >= s.size()) return false;
    bool digits = false, dot = false, exp = false;
    for (; i < s.size(); ++i) {
        const char c = s[i];
        if (c >= '0' && c <= '9') {
            digits = true;
        } else if (c == '.' && !dot && !exp) {
            dot = true;
        } else if ((c == 'e' || c == 'E') && digits && !exp) {
            exp = true;
            digits = false;
            if (i + 1 < s.size() && (s[i + 1] == '-' || s[i + 1] == '+')) ++i;
        } else {
            return false;
        }
    }
    if (!digits) return false;
    // JSON numbers have no leading '+' and no leading zeros ("007" stays a string).
    if (s[0] == '+') return false;
    const std::size_t first = s[0] == '-' ? 1 : 0;
    if (s.size() > first + 1 && s[first] == '0' && s[first + 1] != '.' && s[first + 1] != 'e' &&
        s[first + 1] != 'E')
        return false;
    return s[first] != '.';
}

// YAML -> JSON: quoted scalars are strings; plain scalars that look like
// null/bool/number become those (YAML 1.2 core schema); everything else a string.
inline void yaml_to_json(const YAML::Node& node, std::string& out) {
    switch (node.Type()) {
        case YAML::NodeType::Null:
        case YAML::NodeType::Undefined: out += "null"; return;
        case YAML::NodeType::Sequence: {
            out.push_back('[');
            bool first = true;
            for (const auto& item : node) {
                if (!first) out.push_back(',');
                first = false;
                yaml_to_json(item, out);
            }
            out.push_back(']');
            return;
        }
        case YAML::NodeType::Map: {
            out.push_back('{');
            bool first = true;
            for (const auto& kv : node) {
                if (!first) out.push_back(',');
                first = false;
                out += json_quote(kv.first.Scalar());
                out.push_back(':');
                yaml_to_json(kv.second, out);
            }
            out.push_back('}');
            return;
        }
        case YAML::NodeType::Scalar: {
            const std::string& s = node.Scalar();
            if (node.Tag() == "?") {
                if (s == "~" || s == "null" || s == "Null" || s == "NULL") {
                    out += "null";
                    return;
                }
                if (s == "true" || s == "True" || s == "TRUE") {
                    out += "true";
                    return;
                }
                if (s == "false" || s == "False" || s == "FALSE") {
                    out += "false";
                    return;
                }
                if (plain_is_number(s)) {
                    out += s;
                    return;
                }
            }
            out += json_quote(s);
            return;
        }
    }
}

inline void write_file_atomically(const std::string& path, const std::string& content) {
    const std::string tmp = path + ".tmp";
    {
        std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
        f << content;
        if (!f) throw std::runtime_error("fake apiserver: cannot write " + tmp);
    }
    std::filesystem::rename(tmp, path);
}

inline std::string read_text_file(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) throw std::runtime_error("fake apiserver: cannot read " + path);
    std::ostringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

}  // namespace fake_apiserver_detail

class FakeApiServer {
public:
    struct Options {
        bool plain_http = false;  // serve http:// instead of https://
        bool no_auth = false;     // accept requests without a token
        std::string token;        // initial token (default: random)
        std::string preferred_version = "v1alpha2";
        std::string gone_mode = "event";  // "event": in-stream ERROR 410; "http": HTTP 410
        double bookmark_interval = 0;     // seconds between periodic bookmarks; 0: on demand only
        int history_limit = 0;            // keep at most N events (0: unlimited)
        bool keep_api_version = false;    // do not rewrite TrafficSplit apiVersion on read
        bool verbose = false;             // server logs every request to stderr
        std::string script;               // path of fake_kube_apiserver.py (default: see above)
        // Keeps objects, resourceVersion and history in this file (needed by restart()).
        std::string state_file;
        std::vector<std::string> extra_args;
        std::chrono::milliseconds start_timeout{30000};
    };

    FakeApiServer() : FakeApiServer(Options{}) {}

    explicit FakeApiServer(Options options) : options_(std::move(options)) { start(); }

    FakeApiServer(const FakeApiServer&) = delete;
    FakeApiServer& operator=(const FakeApiServer&) = delete;
    FakeApiServer(FakeApiServer&&) = delete;
    FakeApiServer& operator=(FakeApiServer&&) = delete;

    ~FakeApiServer() {
        stop();
        if (restarted_ && !dir_.empty()) {
            std::error_code ec;
            std::filesystem::remove_all(dir_, ec);
        }
    }

    // ---- connection facts
    const std::string& url() const { return url_; }    // https://127.0.0.1:PORT
    const std::string& host() const { return host_; }  // 127.0.0.1
    std::uint16_t port() const { return port_; }
    const std::string& control_url() const { return control_url_; }
    const std::string& ca_file() const { return ca_file_; }        // empty in plain HTTP mode
    const std::string& token_file() const { return token_file_; }  // what clients read (one token)
    const std::string& accepted_tokens_file() const { return accepted_tokens_file_; }
    const std::string& token() const { return token_; }  // current client token
    // A client certificate and key signed by the test CA; presenting it authenticates
    // like a valid token (kubeconfig client-certificate). Empty in plain HTTP mode.
    const std::string& client_cert_file() const { return client_cert_file_; }
    const std::string& client_key_file() const { return client_key_file_; }
    const std::string& dir() const { return dir_; }  // temp dir of certs and tokens
    pid_t pid() const { return pid_; }

    // Writes a kubeconfig pointing at this server (CA file + token file) and returns its path.
    std::string write_kubeconfig(const std::string& ns = "default") const {
        const std::string path = dir_ + "/kubeconfig";
        std::ostringstream y;
        y << "apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster:\n    server: "
          << url_ << "\n";
        if (!ca_file_.empty()) y << "    certificate-authority: " << ca_file_ << "\n";
        y << "users:\n- name: fake\n  user:\n    tokenFile: " << token_file_ << "\n"
          << "contexts:\n- name: fake\n  context: {cluster: fake, user: fake, namespace: " << ns
          << "}\n"
          << "current-context: fake\n";
        fake_apiserver_detail::write_file_atomically(path, y.str());
        return path;
    }

    // ---- tokens
    // The client token file gets `new_token`; the server accepts it from now on,
    // and stops accepting the previous one when `revoke_old`.
    void rotate_token(const std::string& new_token, bool revoke_old) {
        std::vector<std::string> accepted = accepted_tokens();
        if (revoke_old) accepted.clear();
        accepted.push_back(new_token);
        set_accepted_tokens(accepted);
        fake_apiserver_detail::write_file_atomically(token_file_, new_token + "\n");
        token_ = new_token;
    }
    void set_accepted_tokens(const std::vector<std::string>& tokens) {
        std::string content;
        for (const auto& t : tokens) content += t + "\n";
        fake_apiserver_detail::write_file_atomically(accepted_tokens_file_, content);
    }
    std::vector<std::string> accepted_tokens() const {
        std::vector<std::string> out;
        std::istringstream in(fake_apiserver_detail::read_text_file(accepted_tokens_file_));
        for (std::string line; std::getline(in, line);)
            if (!line.empty()) out.push_back(line);
        return out;
    }
    // Writes only the client side token file (the server's accepted set is unchanged).
    void write_client_token(const std::string& t) {
        fake_apiserver_detail::write_file_atomically(token_file_, t + "\n");
        token_ = t;
    }

    // ---- objects (bypass auth and fault injection; emit watch events)
    // JSON object / List, or YAML with one or more documents. Creates or replaces
    // (any resourceVersion in the input is ignored). Namespace defaults to "default".
    // Returns the server's resourceVersion after the change.
    std::string apply(const std::string& json_or_yaml) {
        std::size_t i = 0;
        while (i < json_or_yaml.size() && std::isspace(static_cast<unsigned char>(json_or_yaml[i])))
            ++i;
        std::string body;
        if (i < json_or_yaml.size() && json_or_yaml[i] == '{') {
            body = json_or_yaml;
        } else {
            body = "{\"objects\":[";
            bool first = true;
            for (const auto& doc : YAML::LoadAll(json_or_yaml)) {
                if (!doc.IsMap()) continue;
                if (!first) body.push_back(',');
                first = false;
                fake_apiserver_detail::yaml_to_json(doc, body);
            }
            body += "]}";
        }
        return fake_apiserver_detail::json_field(checked("POST", "/apply", body),
                                                 "resourceVersion");
    }
    std::string apply_file(const std::string& path) {
        return apply(fake_apiserver_detail::read_text_file(path));
    }

    // kind: "ConfigMap" or "TrafficSplit". Returns the resourceVersion after the delete.
    std::string remove(const std::string& kind, const std::string& ns, const std::string& name) {
        using fake_apiserver_detail::json_quote;
        return fake_apiserver_detail::json_field(
            checked("POST", "/delete",
                    "{\"kind\":" + json_quote(kind) + ",\"namespace\":" + json_quote(ns) +
                        ",\"name\":" + json_quote(name) + "}"),
            "resourceVersion");
    }
    // The stored object as JSON text (as written, before any apiVersion rewrite); throws when
    // missing.
    std::string get_object(const std::string& kind, const std::string& ns,
                           const std::string& name) const {
        return checked("GET", "/get?kind=" + kind + "&namespace=" + ns + "&name=" + name, "");
    }

    // ---- fault injection
    // Closes every open watch abruptly (no terminating chunk); returns how many.
    int drop_streams() { return int_field(checked("POST", "/drop-streams", "{}"), "dropped"); }
    // Sends an ERROR event carrying a Status with `code` (410: "Expired") on every
    // open stream, then ends them cleanly. Returns how many streams got it.
    int stream_error(int code = 410) {
        return int_field(
            checked("POST", "/stream-error", "{\"code\":" + std::to_string(code) + "}"), "streams");
    }
    // Ends every open watch cleanly, as timeoutSeconds does; returns how many.
    int end_streams() { return int_field(checked("POST", "/end-streams", "{}"), "ended"); }
    // The next `n` API requests (n < 0: all, until clear_failures()) whose
    // "path?query" contains `path_substring` (and whose method is `method`, when
    // given) fail with `status` and a Status body; status 0 closes the connection
    // without an answer; status -1 holds the request unanswered until release_hung().
    // `retry_after_seconds` >= 0 adds a Retry-After header.
    void fail_next(int n, int status, const std::string& path_substring = "",
                   const std::string& method = "", int retry_after_seconds = -1) {
        using fake_apiserver_detail::json_quote;
        std::string body =
            "{\"count\":" + std::to_string(n) + ",\"status\":" + std::to_string(status) +
            ",\"path\":" + json_quote(path_substring) + ",\"method\":" + json_quote(method);
        if (retry_after_seconds >= 0)
            body += ",\"retry_after\":" + std::to_string(retry_after_seconds);
        checked("POST", "/fail", body + "}");
    }
    // Closes the connections of requests held by fail_next(n, -1, ...); returns how many.
    int release_hung() { return int_field(checked("POST", "/release-hung", "{}"), "released"); }
    void clear_failures() { checked("POST", "/clear-failures", "{}"); }
    // Open streams stop sending anything (connection stays open) until stall_streams(false).
    // With `new_streams`, watches opened later stall too.
    int stall_streams(bool stall, bool new_streams = false) {
        return int_field(checked("POST", "/stall",
                                 std::string("{\"stall\":") + (stall ? "true" : "false") +
                                     ",\"new_streams\":" + (new_streams ? "true" : "false") + "}"),
                         "streams");
    }
    // down: the API port refuses connections and open ones (watches, keep-alive)
    // are torn down; state, port and certificates are kept. up again with
    // set_outage(false), or by itself after `seconds` when given (> 0).
    void set_outage(bool down, double seconds = 0) {
        std::string body = std::string("{\"down\":") + (down ? "true" : "false");
        if (down && seconds > 0) body += ",\"seconds\":" + std::to_string(seconds);
        checked("POST", "/outage", body + "}");
    }
    // Forgets all history: watches from an older resourceVersion get 410. Returns the current rv.
    std::string compact() {
        return fake_apiserver_detail::json_field(checked("POST", "/compact", "{}"),
                                                 "resourceVersion");
    }
    // Sends a BOOKMARK now on every stream that asked for bookmarks; returns how many.
    int bookmark() { return int_field(checked("POST", "/bookmark", "{}"), "streams"); }
    void set_preferred_version(const std::string& v) {
        configure("{\"preferred_version\":" + fake_apiserver_detail::json_quote(v) + "}");
    }
    void set_gone_mode(const std::string& mode) {
        configure("{\"gone_mode\":" + fake_apiserver_detail::json_quote(mode) + "}");
    }
    void set_bookmark_interval(double seconds) {
        configure("{\"bookmark_interval\":" + std::to_string(seconds) + "}");
    }
    // Raw /config call, e.g. {"served_versions":["v1alpha1"]}, {"slow_ms":200},
    // {"history_limit":10}.
    void configure(const std::string& json) { checked("POST", "/config", json); }

    // ---- counters
    // Requests received (before auth and fault injection) whose method is `method`
    // (empty: any) and whose "path?query" contains `path_substring`.
    long request_count(const std::string& method, const std::string& path_substring) const {
        return std::stol(fake_apiserver_detail::json_field(
            checked("GET",
                    "/count?method=" + url_encode(method) + "&path=" + url_encode(path_substring),
                    ""),
            "count"));
    }
    // Like request_count, for list/get requests only (not watches) and for watches only.
    long list_count(const std::string& path_substring) {
        return count_with("GET", path_substring, "0");
    }
    long watch_count(const std::string& path_substring) {
        return count_with("GET", path_substring, "1");
    }
    void reset_counts() { checked("POST", "/reset-counts", "{}"); }
    std::string state_json() const { return checked("GET", "/state", ""); }
    std::string resource_version() {
        return fake_apiserver_detail::json_field(state_json(), "resourceVersion");
    }
    int open_watches() const {
        return std::stoi(fake_apiserver_detail::json_field(state_json(), "openWatches"));
    }
    std::string requests_json() { return checked("GET", "/requests", ""); }

    // Raw control call: returns {HTTP status, body}.
    std::pair<int, std::string> control(const std::string& method, const std::string& path,
                                        const std::string& body) const {
        return http_call(method, path, body);
    }

    // Stops the server (SIGTERM, then SIGKILL after 5 s). Idempotent.
    void stop() noexcept {
        if (pid_ <= 0) return;
        ::kill(pid_, SIGTERM);
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        int status = 0;
        while (true) {
            const pid_t r = ::waitpid(pid_, &status, WNOHANG);
            if (r == pid_ || (r < 0 && errno != EINTR)) break;
            if (std::chrono::steady_clock::now() > deadline) {
                ::kill(pid_, SIGKILL);
                ::waitpid(pid_, &status, 0);
                break;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        pid_ = -1;
    }

    // SIGKILL: the server dies at once, like a crashed API server (open streams
    // break without a terminating chunk). Idempotent.
    void kill() noexcept {
        if (pid_ <= 0) return;
        ::kill(pid_, SIGKILL);
        int status = 0;
        while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
        }
        pid_ = -1;
    }

    // Starts the server again (killing it first when it runs) on the same ports, with
    // the same certificates and token files, and the objects, resourceVersion and
    // history of Options::state_file, which restart() requires.
    void restart() {
        if (options_.state_file.empty())
            throw std::runtime_error("fake apiserver: restart() needs Options::state_file");
        kill();
        restarted_ = true;
        start();
    }

private:
    static std::string url_encode(const std::string& s) {
        static const char* hex = "0123456789ABCDEF";
        std::string out;
        for (char c : s) {
            const auto u = static_cast<unsigned char>(c);
            if ((u >= '0' && u <= '9') || (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') ||
                u == '-' || u == '_' || u == '.' || u == '~' || u == '/') {
                out.push_back(c);
            } else {
                out.push_back('%');
                out.push_back(hex[u >> 4]);
                out.push_back(hex[u & 15]);
            }
        }
        return out;
    }

    long count_with(const std::string& method, const std::string& path_substring,
                    const std::string& watch) {
        return std::stol(fake_apiserver_detail::json_field(
            checked("GET",
                    "/count?method=" + url_encode(method) + "&path=" + url_encode(path_substring) +
                        "&watch=" + watch,
                    ""),
            "count"));
    }

    static int int_field(const std::string& text, const std::string& key) {
        const std::string v = fake_apiserver_detail::json_field(text, key);
        return v.empty() ? 0 : std::stoi(v);
    }

    std::string script_path() const {
        if (!options_.script.empty()) return options_.script;
        if (const char* e = std::getenv("CROSSOVER_FAKE_APISERVER"); e && *e) return e;
#ifdef CROSSOVER_FAKE_APISERVER_SCRIPT
        return CROSSOVER_FAKE_APISERVER_SCRIPT;
#else
        if (const char* src = std::getenv("CROSSOVER_SOURCE_DIR"); src && *src)
            return std::string(src) + "/tests/kube_apiserver/fake_kube_apiserver.py";
        throw std::runtime_error(
            "fake apiserver: set CROSSOVER_FAKE_APISERVER or CROSSOVER_SOURCE_DIR");
#endif
    }

    void start() {
        const std::string script = script_path();
        const char* py_env = std::getenv("CROSSOVER_PYTHON");
        const std::string python = (py_env && *py_env) ? py_env : "python3";
        std::vector<std::string> args = {python,
                                         script,
                                         "--exit-with-parent",
                                         "--preferred-version",
                                         options_.preferred_version,
                                         "--gone-mode",
                                         options_.gone_mode,
                                         "--bookmark-interval",
                                         std::to_string(options_.bookmark_interval),
                                         "--history-limit",
                                         std::to_string(options_.history_limit)};
        if (options_.plain_http) args.emplace_back("--plain-http");
        if (options_.no_auth) args.emplace_back("--no-auth");
        if (options_.keep_api_version) args.emplace_back("--keep-api-version");
        if (options_.verbose) args.emplace_back("--verbose");
        if (!options_.token.empty()) {
            args.emplace_back("--token");
            args.push_back(options_.token);
        }
        if (!options_.state_file.empty()) {
            args.emplace_back("--state-file");
            args.push_back(options_.state_file);
        }
        if (restarted_) {
            for (const std::string& a :
                 {std::string("--port"), std::to_string(port_), std::string("--control-port"),
                  std::to_string(control_port_), std::string("--dir"), dir_})
                args.push_back(a);
        }
        for (const auto& a : options_.extra_args) args.push_back(a);
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);

        int fds[2];
        if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("fake apiserver: pipe failed");
        const pid_t child = ::fork();
        if (child < 0) {
            ::close(fds[0]);
            ::close(fds[1]);
            throw std::runtime_error("fake apiserver: fork failed");
        }
        if (child == 0) {
            ::dup2(fds[1], STDOUT_FILENO);  // dup2 clears O_CLOEXEC on the copy
            // The server must not hold the test's own sockets open (a client
            // closing a connection would go unnoticed by its peer).
            if (::close_range(3, ~0U, 0) != 0)
                for (int fd = 3; fd < 1024; ++fd) ::close(fd);
            ::execvp(argv[0], argv.data());
            const char msg[] = "fake apiserver: cannot exec python3\n";
            [[maybe_unused]] auto ignored = ::write(STDERR_FILENO, msg, sizeof msg - 1);
            ::_exit(127);
        }
        pid_ = child;
        ::close(fds[1]);
        std::string line;
        const auto deadline = std::chrono::steady_clock::now() + options_.start_timeout;
        bool done = false;
        while (!done) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                                  deadline - std::chrono::steady_clock::now())
                                  .count();
            if (left <= 0) break;
            pollfd p{fds[0], POLLIN, 0};
            const int r = ::poll(&p, 1, static_cast<int>(left));
            if (r < 0 && errno == EINTR) continue;
            if (r <= 0) break;
            char buf[4096];
            const ssize_t n = ::read(fds[0], buf, sizeof buf);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) break;
            line.append(buf, static_cast<std::size_t>(n));
            done = line.find('\n') != std::string::npos;
        }
        ::close(fds[0]);
        if (!done) {
            stop();
            throw std::runtime_error("fake apiserver: " + script +
                                     " did not report ready (output: '" + line + "')");
        }
        using fake_apiserver_detail::json_field;
        url_ = json_field(line, "url");
        control_url_ = json_field(line, "control_url");
        ca_file_ = json_field(line, "ca_file");
        token_file_ = json_field(line, "token_file");
        accepted_tokens_file_ = json_field(line, "accepted_tokens_file");
        token_ = json_field(line, "token");
        client_cert_file_ = json_field(line, "client_cert_file");
        client_key_file_ = json_field(line, "client_key_file");
        dir_ = json_field(line, "dir");
        const auto host_start = url_.find("://") + 3;
        const auto colon = url_.rfind(':');
        host_ = url_.substr(host_start, colon - host_start);
        port_ = static_cast<std::uint16_t>(std::stoul(url_.substr(colon + 1)));
        control_port_ = static_cast<std::uint16_t>(
            std::stoul(control_url_.substr(control_url_.rfind(':') + 1)));
    }

    std::string checked(const std::string& method, const std::string& path,
                        const std::string& body) const {
        auto [code, text] = http_call(method, path, body);
        if (code < 200 || code >= 300)
            throw std::runtime_error("fake apiserver control " + method + " " + path + " -> " +
                                     std::to_string(code) + ": " + text);
        return text;
    }

    // Minimal HTTP/1.1 client (Connection: close) for the control port.
    std::pair<int, std::string> http_call(const std::string& method, const std::string& path,
                                          const std::string& body) const {
        const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) throw std::runtime_error("fake apiserver: socket failed");
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(control_port_);
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
            ::close(fd);
            throw std::runtime_error("fake apiserver: cannot connect to control port " +
                                     control_url_);
        }
        std::string req =
            method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
        if (!body.empty() || method == "POST")
            req +=
                "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
                "\r\n";
        req += "\r\n";
        req += body;
        std::size_t sent = 0;
        while (sent < req.size()) {
            const ssize_t n = ::send(fd, req.data() + sent, req.size() - sent, MSG_NOSIGNAL);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) {
                ::close(fd);
                throw std::runtime_error("fake apiserver: control send failed");
            }
            sent += static_cast<std::size_t>(n);
        }
        std::string resp;
        char buf[65536];
        while (true) {
            const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) break;
            resp.append(buf, static_cast<std::size_t>(n));
        }
        ::close(fd);
        const auto sp = resp.find(' ');
        const auto head_end = resp.find("\r\n\r\n");
        if (sp == std::string::npos || head_end == std::string::npos)
            throw std::runtime_error("fake apiserver: bad control response: " + resp);
        return {std::stoi(resp.substr(sp + 1, 3)), resp.substr(head_end + 4)};
    }

    Options options_;
    pid_t pid_ = -1;
    bool restarted_ = false;  // the temp dir is then ours to remove
    std::string url_, host_, control_url_, ca_file_, token_file_, accepted_tokens_file_, token_,
        dir_;
    std::string client_cert_file_, client_key_file_;
    std::uint16_t port_ = 0;
    std::uint16_t control_port_ = 0;
};

}  // namespace crossover::testing
