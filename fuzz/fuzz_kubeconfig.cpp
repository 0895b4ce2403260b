// The kubeconfig reader (plugins/common_kube: resolve_config, load_kubeconfig):
// the input is written as a kubeconfig into a scratch directory that also holds
// the files seeds name by relative path (ca.crt, client.crt, client.key, token,
// empty-token, the directory certs/). A first line "#context=NAME" gives the
// context option; a line "#insecure" sets the insecure option.
//
// Properties beyond "does not crash":
//  - the only exception is crossover::Error, and its message starts with
//    "kubeconfig <the file>" (every rejection names the file);
//  - a configuration that resolves has a server URL the client can use
//    (http:// or https://, parses, a host, no trailing '/'), a namespace, an
//    origin naming the file, and every file it names that the connection reads
//    exists (a token file holds a token, an inline token is one word);
//  - resolving again gives the same result.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include <Poco/URI.h>

#include "crossover/files.h"
#include "crossover/status.h"
#include "crossover_kube/config.h"

using namespace crossover;
using namespace crossover::kube;

namespace {

[[noreturn]] void violated(const std::string& what, const std::string& detail) {
    std::fprintf(stderr, "property violated: %s\n%s\n", what.c_str(), detail.c_str());
    std::abort();
}

struct Scratch {
    std::string dir;
    std::string kubeconfig;

    Scratch() {
        std::string templ = (std::filesystem::temp_directory_path() / "fuzz-kubeconfig-XXXXXX");
        std::vector<char> buf(templ.begin(), templ.end());
        buf.push_back('\0');
        if (::mkdtemp(buf.data()) == nullptr) {
            violated("setup", "mkdtemp failed");
        }
        dir = buf.data();
        kubeconfig = dir + "/config";
        const auto write = [&](const char* name, const char* content) {
            std::ofstream(dir + "/" + name, std::ios::binary) << content;
        };
        write("ca.crt", "-----BEGIN CERTIFICATE-----\nY2E=\n-----END CERTIFICATE-----\n");
        write("client.crt", "-----BEGIN CERTIFICATE-----\nY2VydA==\n-----END CERTIFICATE-----\n");
        write("client.key", "-----BEGIN PRIVATE KEY-----\na2V5\n-----END PRIVATE KEY-----\n");
        write("token", "fuzz-token\n");
        write("empty-token", "");
        std::filesystem::create_directories(dir + "/certs");
    }
    ~Scratch() {
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
    }
    Scratch(const Scratch&) = delete;
    Scratch& operator=(const Scratch&) = delete;
};

Environment no_environment() {
    Environment env;
    env.getenv = [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
    env.serviceaccount_dir = "/nonexistent-serviceaccount";
    return env;
}

// Options from the input's leading comment lines.
ConnectionOptions options_from(const std::string& text, const std::string& kubeconfig) {
    ConnectionOptions options;
    options.kubeconfig = kubeconfig;
    std::size_t start = 0;
    while (start < text.size() && text[start] == '#') {
        std::size_t end = text.find('\n', start);
        if (end == std::string::npos) {
            end = text.size();
        }
        const std::string line = text.substr(start, end - start);
        if (line.rfind("#context=", 0) == 0) {
            options.context = line.substr(9);
        } else if (line == "#insecure") {
            options.insecure = true;
        }
        start = end + 1;
    }
    return options;
}

void check_file(const std::string& path, const std::string& what, const std::string& detail) {
    std::string problem;
    if (!read_regular_file(path, problem)) {
        violated("a resolved " + what + " is readable", path + ": " + problem + "\n" + detail);
    }
}

void check_resolved(const ClusterConfig& c, const std::string& kubeconfig) {
    const std::string detail = "server '" + c.server + "', origin '" + c.origin + "'";
    const bool https = c.server.rfind("https://", 0) == 0;
    if (!https && c.server.rfind("http://", 0) != 0) {
        violated("the server is http:// or https://", detail);
    }
    if (!c.server.empty() && c.server.back() == '/') {
        violated("the server has no trailing '/'", detail);
    }
    try {
        if (Poco::URI(c.server).getHost().empty()) {
            violated("the server has a host", detail);
        }
    } catch (const std::exception& e) {
        violated("the server parses as a URI", detail + ": " + e.what());
    }
    if (c.ns.empty()) {
        violated("a namespace", detail);
    }
    if (c.origin.find(kubeconfig) == std::string::npos) {
        violated("the origin names the kubeconfig", detail);
    }
    if (https && !c.insecure && !c.ca_file.empty()) {
        check_file(c.ca_file, "CA file", detail);
    }
    if (https && c.client_cert_data.empty() && !c.client_cert_file.empty()) {
        check_file(c.client_cert_file, "client certificate", detail);
    }
    const bool has_cert = !c.client_cert_data.empty() || !c.client_cert_file.empty();
    if (https && has_cert && c.client_key_data.empty() && !c.client_key_file.empty()) {
        check_file(c.client_key_file, "client key", detail);
    }
    for (const char ch : c.token) {
        if (static_cast<unsigned char>(ch) <= 0x20 || ch == 0x7f) {
            violated("an inline token is one word", "token '" + c.token + "'\n" + detail);
        }
    }
    if (!c.token_file.empty()) {
        std::string problem;
        const auto token = read_regular_file(c.token_file, problem);
        if (!token || token->find_first_not_of(" \t\r\n") == std::string::npos) {
            violated("a resolved token file holds a token", c.token_file + "\n" + detail);
        }
    }
}

// The result of one resolution, for comparing two.
std::string outcome(const ConnectionOptions& options, const std::string& kubeconfig) {
    try {
        const ClusterConfig c = resolve_config(options, no_environment());
        check_resolved(c, kubeconfig);
        return "ok " + c.server + "|" + c.ca_file + "|" + c.ca_data + "|" + c.token + "|" +
               c.token_file + "|" + c.client_cert_file + "|" + c.client_cert_data + "|" +
               c.client_key_file + "|" + c.client_key_data + "|" + (c.insecure ? "1" : "0") + "|" +
               c.ns + "|" + c.origin;
    } catch (const Error& e) {
        const std::string message = e.what();
        if (message.rfind("kubeconfig " + kubeconfig, 0) != 0) {
            violated("an error names the kubeconfig first", message);
        }
        return "error " + message;
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const Scratch scratch;
    const std::string text(reinterpret_cast<const char*>(data), size);
    {
        std::ofstream out(scratch.kubeconfig, std::ios::binary | std::ios::trunc);
        out << text;
    }
    const ConnectionOptions options = options_from(text, scratch.kubeconfig);
    const std::string first = outcome(options, scratch.kubeconfig);
    const std::string second = outcome(options, scratch.kubeconfig);
    if (first != second) {
        violated("resolving twice gives the same result", first + "\n" + second);
    }
    return 0;
}
