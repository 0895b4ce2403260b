// docs/route-registry.openapi.yaml against a running registry: every
// operation of the file is called, each answer's status must be listed for
// its operation, and its JSON body must match the schema given for it. The
// request bodies sent must match the request schema too, and every
// operation the file lists must have been called.
#define BOOST_TEST_MODULE route_registry_openapi
#include <set>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <yaml-cpp/yaml.h>
#include <boost/test/unit_test.hpp>

#include "api.h"
#include "http_client.h"
#include "http_server.h"
#include "process.h"

using namespace crossover::route_registry;
using crossover::test::HttpClient;
using crossover::test::TempDir;
using Poco::Dynamic::Var;

namespace {

const std::string kWriter = "openapi-writer-0123456789";
const std::string kReader = "openapi-reader-0123456789";

// node[k1][k2]...: an undefined node as soon as a key is missing (yaml-cpp
// throws when indexing a missing node again).
YAML::Node dig(const YAML::Node& node, std::initializer_list<std::string> keys) {
    YAML::Node at;
    at.reset(node);
    for (const auto& k : keys) {
        if (!at.IsMap() || !at[k]) {
            return YAML::Node(YAML::NodeType::Undefined);
        }
        const YAML::Node next = at[k];
        at.reset(next);
    }
    return at;
}

class SchemaChecker {
public:
    explicit SchemaChecker(YAML::Node root) : root_(std::move(root)) {}

    YAML::Node resolve(const YAML::Node& given) const {
        YAML::Node node;
        node.reset(given);
        while (node.IsMap() && node["$ref"]) {
            const std::string ref = node["$ref"].as<std::string>();
            BOOST_REQUIRE(ref.rfind("#/", 0) == 0);
            // reset(), never operator=: assigning a node writes into the tree it refers to.
            YAML::Node at;
            at.reset(root_);
            std::size_t start = 2;
            while (start <= ref.size()) {
                const std::size_t slash = ref.find('/', start);
                const std::string part = ref.substr(
                    start, slash == std::string::npos ? std::string::npos : slash - start);
                const YAML::Node next = at[part];
                at.reset(next);
                BOOST_REQUIRE_MESSAGE(at.IsDefined(), "unresolved " << ref);
                if (slash == std::string::npos) {
                    break;
                }
                start = slash + 1;
            }
            node.reset(at);
        }
        return node;
    }

    // Problems of `value` against `schema`, "" when it matches.
    std::string check(const Var& value, const YAML::Node& given, const std::string& path) const {
        const YAML::Node schema = resolve(given);
        const std::string type = schema["type"] ? schema["type"].as<std::string>() : "";
        if (type == "object") {
            if (value.type() != typeid(Poco::JSON::Object::Ptr)) {
                return path + ": expected an object";
            }
            const auto object = value.extract<Poco::JSON::Object::Ptr>();
            for (const auto& r : schema["required"]) {
                if (!object->has(r.as<std::string>())) {
                    return path + ": missing " + r.as<std::string>();
                }
            }
            for (const auto& [key, member] : *object) {
                const YAML::Node property = dig(schema, {"properties", key});
                const YAML::Node extra = schema["additionalProperties"];
                if (property) {
                    if (auto p = check(member, property, path + "." + key); !p.empty()) {
                        return p;
                    }
                } else if (extra && extra.IsMap()) {
                    if (auto p = check(member, extra, path + "." + key); !p.empty()) {
                        return p;
                    }
                } else if (extra && !extra.as<bool>()) {
                    return path + ": member '" + key + "' is not in the schema";
                }
            }
        } else if (type == "array") {
            if (value.type() != typeid(Poco::JSON::Array::Ptr)) {
                return path + ": expected an array";
            }
            const auto array = value.extract<Poco::JSON::Array::Ptr>();
            if (schema["minItems"] && array->size() < schema["minItems"].as<std::size_t>()) {
                return path + ": too few items";
            }
            if (schema["maxItems"] && array->size() > schema["maxItems"].as<std::size_t>()) {
                return path + ": too many items";
            }
            for (std::size_t i = 0; i < array->size(); ++i) {
                if (auto p = check(array->get(static_cast<unsigned>(i)), schema["items"],
                                   path + "[" + std::to_string(i) + "]");
                    !p.empty()) {
                    return p;
                }
            }
        } else if (type == "string") {
            if (!value.isString()) {
                return path + ": expected a string";
            }
            if (schema["enum"]) {
                bool found = false;
                for (const auto& e : schema["enum"]) {
                    found = found || e.as<std::string>() == value.toString();
                }
                if (!found) {
                    return path + ": '" + value.toString() + "' is not in the enum";
                }
            }
        } else if (type == "integer") {
            if (!value.isInteger()) {
                return path + ": expected an integer";
            }
            const auto n = value.convert<std::int64_t>();
            if ((schema["minimum"] && n < schema["minimum"].as<std::int64_t>()) ||
                (schema["maximum"] && n > schema["maximum"].as<std::int64_t>())) {
                return path + ": out of range";
            }
        }
        return {};
    }

private:
    YAML::Node root_;
};

struct Call {
    std::string method;
    std::string spec_path;  // the path as the file writes it
    std::string path;
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string token = kWriter;
    int expected;
};

std::string route(const std::string& domain) {
    return R"({"domains": [")" + domain +
           R"("], "endpoints": [{"address": "10.1.2.3", "port": 50051, "weight": 2}],
               "protocol": "grpc", "prefix": "/", "timeout": "15s", "tls": {"sni": "a.internal"},
               "labels": {"team": "games"}})";
}

}  // namespace

BOOST_AUTO_TEST_CASE(the_running_server_answers_as_the_file_says) {
    const YAML::Node spec =
        YAML::LoadFile(crossover::test::source_dir() + "/docs/route-registry.openapi.yaml");
    const SchemaChecker schemas(spec);

    TempDir dir;
    crossover::test::write_text(dir / "tokens",
                                kWriter + " writer write\n" + kReader + " reader read\n");
    const auto quiet = [](crossover::LogLevel, std::string_view) {};
    Registry registry({dir / "state", 1000}, quiet);
    TokenFile tokens(dir / "tokens", quiet);
    // Api and HttpServer share ownership of the Api; the registry outlives both.
    auto api = std::make_shared<Api>(registry, tokens, RouteLimits{}, 2048, quiet);
    HttpServer server(api, "127.0.0.1:0", 4);

    const std::string big =
        route("big.example.org").insert(1, R"("name": ")" + std::string(3000, 'a') + "\",");
    const std::vector<Call> calls = {
        {"put", "/v1/routes/{name}", "/v1/routes/a", route("a.example.org"), {}, kWriter, 201},
        {"put", "/v1/routes/{name}", "/v1/routes/a", route("a.example.org"), {}, kWriter, 200},
        {"put", "/v1/routes/{name}", "/v1/routes/b", route("a.example.org"), {}, kWriter, 409},
        {"put",
         "/v1/routes/{name}",
         "/v1/routes/a",
         route("a.example.org"),
         {{"If-Match", "\"9\""}},
         kWriter,
         412},
        {"put", "/v1/routes/{name}", "/v1/routes/a", R"({"domains": []})", {}, kWriter, 400},
        {"put", "/v1/routes/{name}", "/v1/routes/a", route("a.example.org"), {}, kReader, 403},
        {"put", "/v1/routes/{name}", "/v1/routes/a", route("a.example.org"), {}, "", 401},
        {"put", "/v1/routes/{name}", "/v1/routes/a", big, {}, kWriter, 413},
        {"get", "/v1/routes/{name}", "/v1/routes/a", "", {}, kReader, 200},
        {"get", "/v1/routes/{name}", "/v1/routes/missing", "", {}, kReader, 404},
        {"get", "/v1/routes/{name}", "/v1/routes/Bad_Name", "", {}, kReader, 400},
        {"get", "/v1/routes/{name}", "/v1/routes/a", "", {}, "", 401},
        {"get", "/v1/routes", "/v1/routes", "", {}, kReader, 200},
        {"get", "/v1/routes", "/v1/routes", "", {}, "", 401},
        {"post",
         "/xds/tasks",
         "/xds/tasks",
         R"({"id": "t-1", "domains": ["t1.example.org"],
                                                  "endpoints": [{"address": "10.0.0.1", "port": 1}]})",
         {},
         kWriter,
         201},
        {"post", "/xds/tasks", "/xds/tasks", route("t2.example.org"), {}, kWriter, 400},
        {"delete", "/xds/tasks/{id}", "/xds/tasks/t-1", "", {}, kWriter, 204},
        {"delete", "/xds/tasks/{id}", "/xds/tasks/t-1", "", {}, kWriter, 404},
        {"delete", "/xds/tasks/{id}", "/xds/tasks/t-1", "", {}, kReader, 403},
        {"delete", "/v1/routes/{name}", "/v1/routes/a", "", {{"If-Match", "\"9\""}}, kWriter, 412},
        {"delete", "/v1/routes/{name}", "/v1/routes/a", "", {}, kWriter, 204},
        {"delete", "/v1/routes/{name}", "/v1/routes/a", "", {}, kWriter, 404},
        {"delete", "/v1/routes/{name}", "/v1/routes/a", "", {}, "", 401},
    };
    std::set<std::string> called;
    for (const auto& call : calls) {
        BOOST_TEST_CONTEXT(call.method << " " << call.path << " (" << call.expected << ")") {
            const YAML::Node operation = dig(spec, {"paths", call.spec_path, call.method});
            BOOST_REQUIRE_MESSAGE(operation.IsDefined(), "operation missing from the file");
            called.insert(call.method + " " + call.spec_path);
            std::string method = call.method;
            for (auto& c : method) {
                c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
            }
            HttpClient client(server.address(), call.token);
            const auto reply = client.call(method, call.path, call.body, call.headers);
            BOOST_CHECK_EQUAL(reply.status, call.expected);
            const YAML::Node listed = dig(operation, {"responses", std::to_string(reply.status)});
            BOOST_REQUIRE_MESSAGE(listed.IsDefined(), "status " << reply.status << " not listed");
            const YAML::Node response = schemas.resolve(listed);
            BOOST_REQUIRE_MESSAGE(response.IsDefined(), "status " << reply.status << " not listed");
            const YAML::Node schema = dig(response, {"content", "application/json", "schema"});
            if (!schema) {
                BOOST_CHECK_MESSAGE(reply.body.empty(), "undocumented body " << reply.body);
                continue;
            }
            Poco::JSON::Parser parser;
            const std::string problem = schemas.check(parser.parse(reply.body), schema, "body");
            BOOST_CHECK_MESSAGE(problem.empty(), problem << " in " << reply.body);
            // A body the server accepted is one the file allows.
            if (reply.status < 300 && !call.body.empty()) {
                const YAML::Node request_schema =
                    dig(operation, {"requestBody", "content", "application/json", "schema"});
                Poco::JSON::Parser request_parser;
                const std::string p =
                    schemas.check(request_parser.parse(call.body), request_schema, "request");
                BOOST_CHECK_MESSAGE(p.empty(), p);
            }
        }
    }
    for (const auto& path : spec["paths"]) {
        for (const auto& op : path.second) {
            const std::string method = op.first.as<std::string>();
            if (method == "parameters") {
                continue;
            }
            BOOST_CHECK_MESSAGE(called.count(method + " " + path.first.as<std::string>()) == 1,
                                "operation " << method << " " << path.first << " never called");
        }
    }
}
