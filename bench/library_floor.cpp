// crossover-bench-floor: the memory floor of crossover's libraries. A program with no
// crossover code, linked with the libraries a Kubernetes-watching crossover process maps
// (libstdc++, Poco Foundation/Net/JSON, yaml-cpp, prometheus-cpp core, OpenSSL; libprotobuf in
// crossover-bench-floor-protobuf, for the validating case). It makes one HTTPS GET of a
// ConfigMap with OpenSSL directly, reads the reply with Poco, parses the JSON with Poco JSON
// and the first data key with yaml-cpp, counts it with a prometheus-cpp counter (and, with
// libprotobuf, builds one message type and serialises a message of it), frees all it read and
// gives the heap back as crossover's engine does after each recompute (malloc_trim), says
// "floor ready" and idles until SIGTERM. crossover-bench reads its resident memory as the part of
// crossover's that the libraries take at the least: crossover runs more of each library's
// code, so this is a lower bound (docs/performance.md, "The memory floor").
//
//   crossover-bench-floor --apiserver URL --token-file FILE --namespace NS --configmap NAME
#include <malloc.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <prometheus/counter.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>
#include <pthread.h>
#include <signal.h>
#include <yaml-cpp/yaml.h>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/URI.h>

#include <csignal>
#include <cstddef>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#ifdef CROSSOVER_FLOOR_PROTOBUF
#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/message.h>
#endif

namespace {

struct Args {
    std::string apiserver;
    std::string token_file;
    std::string ns;
    std::string configmap;
};

Args read_args(int argc, char** argv) {
    Args a;
    const std::vector<std::string> args(argv + 1, argv + argc);
    for (std::size_t i = 0; i + 1 < args.size(); i += 2) {
        const std::string& flag = args[i];
        const std::string& value = args[i + 1];
        if (flag == "--apiserver") {
            a.apiserver = value;
        } else if (flag == "--token-file") {
            a.token_file = value;
        } else if (flag == "--namespace") {
            a.ns = value;
        } else if (flag == "--configmap") {
            a.configmap = value;
        } else {
            throw std::invalid_argument("unknown flag " + flag);
        }
    }
    if (args.size() % 2 != 0 || a.apiserver.empty() || a.token_file.empty() || a.ns.empty() ||
        a.configmap.empty()) {
        throw std::invalid_argument(
            "usage: crossover-bench-floor --apiserver URL --token-file FILE --namespace NS "
            "--configmap NAME");
    }
    return a;
}

std::string openssl_error(const std::string& what) {
    std::string text = what;
    char buf[256];
    for (unsigned long e = ERR_get_error(); e != 0; e = ERR_get_error()) {
        ERR_error_string_n(e, buf, sizeof buf);
        text += std::string(": ") + buf;
    }
    return text;
}

// One GET over TLS without verifying the server (the side-by-side runs are --insecure, as the
// original needs): connect with Poco, handshake with OpenSSL, the request written by Poco, the
// reply read to its Content-Length. The connection and the context stay open, as a watching
// client's would.
std::string https_get(const Poco::URI& server, const std::string& path, const std::string& token) {
    OPENSSL_init_ssl(0, nullptr);
    SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
    if (ctx == nullptr) {
        throw std::runtime_error(openssl_error("SSL_CTX_new"));
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
    // Kept for the life of the process, like the watch's socket and context.
    static Poco::Net::StreamSocket socket;
    socket.connect(Poco::Net::SocketAddress(server.getHost(), server.getPort()));
    SSL* ssl = SSL_new(ctx);
    if (ssl == nullptr || SSL_set_fd(ssl, static_cast<int>(socket.impl()->sockfd())) != 1 ||
        SSL_connect(ssl) != 1) {
        throw std::runtime_error(openssl_error("TLS handshake with " + server.toString()));
    }
    Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_GET, path,
                                   Poco::Net::HTTPMessage::HTTP_1_1);
    request.setHost(server.getHost(), server.getPort());
    request.set("Authorization", "Bearer " + token);
    request.set("Accept", "application/json");
    std::ostringstream head;
    request.write(head);
    const std::string text = head.str();
    if (SSL_write(ssl, text.data(), static_cast<int>(text.size())) <= 0) {
        throw std::runtime_error(openssl_error("TLS write"));
    }
    std::string reply;
    std::size_t body_at = std::string::npos;
    Poco::Net::HTTPResponse response;
    char buf[16384];
    for (;;) {
        if (body_at != std::string::npos &&
            reply.size() - body_at >= static_cast<std::size_t>(response.getContentLength64())) {
            break;
        }
        const int n = SSL_read(ssl, buf, sizeof buf);
        if (n <= 0) {
            throw std::runtime_error(openssl_error("TLS read: the reply ended early"));
        }
        reply.append(buf, static_cast<std::size_t>(n));
        if (body_at == std::string::npos) {
            if (const auto end = reply.find("\r\n\r\n"); end != std::string::npos) {
                body_at = end + 4;
                std::istringstream in(reply.substr(0, body_at));
                response.read(in);
                if (response.getStatus() != Poco::Net::HTTPResponse::HTTP_OK ||
                    !response.hasContentLength()) {
                    throw std::runtime_error("GET " + path + ": " +
                                             std::to_string(response.getStatus()) + " " +
                                             response.getReason() + " (or no Content-Length)");
                }
            }
        }
    }
    return reply.substr(body_at);
}

std::string read_token(const std::string& path) {
    std::ifstream in(path);
    std::string token;
    std::getline(in, token);
    if (token.empty()) {
        throw std::runtime_error("no token in " + path);
    }
    return token;
}

// The virtual hosts of the first RouteConfiguration in an RDS document, through yaml-cpp.
std::size_t virtual_hosts(const std::string& rds) {
    const YAML::Node doc = YAML::Load(rds);
    const YAML::Node resources = doc["resources"];
    if (!resources.IsSequence() || resources.size() == 0) {
        return 0;
    }
    const YAML::Node hosts = resources[0]["virtual_hosts"];
    return hosts.IsSequence() ? hosts.size() : 0;
}

#ifdef CROSSOVER_FLOOR_PROTOBUF
// libprotobuf's least part in a validating process: a message type built at run time and a
// message of it serialised.
std::size_t protobuf_touch(const std::string& name) {
    google::protobuf::FileDescriptorProto file;
    file.set_name("floor.proto");
    file.set_package("floor");
    file.set_syntax("proto3");
    auto* message = file.add_message_type();
    message->set_name("Route");
    auto* field = message->add_field();
    field->set_name("name");
    field->set_number(1);
    field->set_type(google::protobuf::FieldDescriptorProto::TYPE_STRING);
    field->set_label(google::protobuf::FieldDescriptorProto::LABEL_OPTIONAL);
    static google::protobuf::DescriptorPool pool;
    const google::protobuf::FileDescriptor* built = pool.BuildFile(file);
    if (built == nullptr) {
        throw std::runtime_error("protobuf: cannot build floor.proto");
    }
    static google::protobuf::DynamicMessageFactory factory(&pool);
    const google::protobuf::Descriptor* type = built->message_type(0);
    google::protobuf::Message* route = factory.GetPrototype(type)->New();
    route->GetReflection()->SetString(route, type->field(0), name);
    const std::string bytes = route->SerializeAsString();
    delete route;
    return bytes.size();
}
#endif

// Each library touched once: the ConfigMap read over TLS, its JSON and its first data key's
// YAML parsed, a counter, a protobuf message. Returns what was seen; everything read is freed
// on return.
std::string touch_libraries(const Args& args) {
    const Poco::URI server(args.apiserver);
    const std::string body =
        https_get(server, "/api/v1/namespaces/" + args.ns + "/configmaps/" + args.configmap,
                  read_token(args.token_file));
    Poco::JSON::Parser parser;
    const auto object = parser.parse(body).extract<Poco::JSON::Object::Ptr>();
    const auto data = object->getObject("data");
    if (data.isNull() || data->size() == 0) {
        throw std::runtime_error("ConfigMap " + args.configmap + " has no data");
    }
    const std::string key = data->begin()->first;
    const std::size_t hosts = virtual_hosts(data->getValue<std::string>(key));
    static prometheus::Registry registry;
    auto& family = prometheus::BuildCounter()
                       .Name("crossover_bench_floor_reads_total")
                       .Help("ConfigMaps read")
                       .Register(registry);
    family.Add({{"configmap", args.configmap}}).Increment();
    const std::string metrics = prometheus::TextSerializer().Serialize(registry.Collect());
    std::string seen = key + " with " + std::to_string(hosts) + " virtual hosts, " +
                       std::to_string(metrics.size()) + " bytes of metrics";
#ifdef CROSSOVER_FLOOR_PROTOBUF
    seen += ", a " + std::to_string(protobuf_touch(key)) + "-byte protobuf message";
#endif
    return seen;
}

}  // namespace

int main(int argc, char** argv) {
    // Blocked before anything starts, so that sigwait below takes them.
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, nullptr);
    try {
        const std::string seen = touch_libraries(read_args(argc, argv));
        // The document and its trees are freed by now; malloc_trim gives their pages back as
        // crossover's engine does after each recompute. Without it they stay resident under
        // the few blocks allocated after them, and the floor would count the data, not the
        // libraries (crossover's copies of the data are its own).
        ::malloc_trim(0);
        std::cout << "floor ready: " << seen << std::endl;
    } catch (const std::exception& e) {
        std::cerr << "crossover-bench-floor: " << e.what() << std::endl;
        return 1;
    }
    int signal = 0;
    sigwait(&stop, &signal);
    return 0;
}
