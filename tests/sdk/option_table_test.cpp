// crossover/option_table.h: one table per plugin drives checking, defaults,
// decoding into the plugin's struct and the documentation.
#define BOOST_TEST_MODULE option_table
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "crossover/option_table.h"
#include "crossover/plugin.h"

using namespace crossover;
using namespace std::chrono_literals;

namespace {

struct Connection {
    std::string server;
    std::chrono::milliseconds timeout{10s};
};

struct Options {
    std::string dir;
    std::string mode = "symlink";
    std::int64_t keep = 2;
    std::uint16_t port = 8080;
    bool fsync = true;
    std::chrono::milliseconds settle{2};
    std::vector<std::string> paths;
    std::map<std::string, std::string> labels;
    std::optional<std::string> ns;
    YAML::Node extra;
    std::string file_mode = "0644";
    Connection connection;
};

const std::vector<OptionField<Connection>>& connection_fields() {
    static const std::vector<OptionField<Connection>> fields{
        option("server", &Connection::server, "server URL"),
        option("timeout", &Connection::timeout, "request timeout").at_least(1ms),
    };
    return fields;
}

const OptionTable<Options> kTable{
    option("dir", &Options::dir, "output directory").required().path().check(checks::not_empty),
    option("mode", &Options::mode, "how to swap").choices({"symlink", "rename"}).alias("swap"),
    option("keep", &Options::keep, "versions kept").range(1, 100),
    option("port", &Options::port, "port"),
    option("fsync", &Options::fsync, "flush"),
    option("settle", &Options::settle, "quiet period"),
    option("paths", &Options::paths, "files").path(),
    option("labels", &Options::labels, "labels"),
    option("namespace", &Options::ns, "namespace"),
    option("extra", &Options::extra, "anything"),
    option("file_mode", &Options::file_mode, "permissions").check(checks::octal_mode),
    option_group(connection_fields(), &Options::connection, "kube_"),
};

const OptionSpec& spec(const std::string& name) {
    for (std::size_t i = 0; i < kTable.size(); ++i) {
        if (name == kTable.specs()[i].name) {
            return kTable.specs()[i];
        }
    }
    throw std::runtime_error("no option " + name);
}

ComponentConfig config(const std::string& yaml) {
    ComponentConfig c;
    c.name = "out";
    c.path = "sinks.out";
    c.file = "/etc/pipe.yaml";
    c.line = 3;
    c.base_dir = "/etc";
    c.options = YAML::Load(yaml);
    return c;
}

std::string error_of(const std::string& yaml) {
    try {
        (void)kTable.decode(config(yaml));
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

}  // namespace

BOOST_AUTO_TEST_CASE(the_struct_gives_types_and_defaults) {
    BOOST_TEST(kTable.size() == 13u);
    BOOST_TEST((spec("dir").type == OptionType::String));
    BOOST_TEST(spec("dir").required);
    BOOST_TEST(spec("dir").default_value == nullptr);
    BOOST_TEST(spec("dir").path);
    BOOST_TEST(std::string(spec("mode").default_value) == "symlink");
    BOOST_TEST((spec("keep").type == OptionType::Int));
    BOOST_TEST(std::string(spec("keep").default_value) == "2");
    BOOST_TEST(spec("keep").min == 1);
    BOOST_TEST(spec("keep").max == 100);
    BOOST_TEST(std::string(spec("fsync").default_value) == "true");
    BOOST_TEST((spec("settle").type == OptionType::Duration));
    BOOST_TEST(std::string(spec("settle").default_value) == "2ms");
    BOOST_TEST((spec("paths").type == OptionType::StringList));
    BOOST_TEST(spec("paths").default_value == nullptr);  // empty: shown as no default
    BOOST_TEST((spec("labels").type == OptionType::StringMap));
    BOOST_TEST(spec("namespace").default_value == nullptr);  // optional: unset
    BOOST_TEST((spec("extra").type == OptionType::Any));
    // A string YAML would read as a number is quoted, so the default reads back as text.
    BOOST_TEST(std::string(spec("file_mode").default_value) == "\"0644\"");
    BOOST_TEST(YAML::Load(spec("file_mode").default_value).as<std::string>() == "0644");
    // A group's options carry the prefix and their struct's defaults.
    BOOST_TEST(std::string(spec("kube_timeout").default_value) == "10s");
    BOOST_TEST(spec("kube_timeout").min == 1);
    BOOST_TEST(std::string(spec("mode").choices[1]) == "rename");
    BOOST_TEST(spec("mode").choices[2] == nullptr);
    BOOST_TEST(std::string(spec("mode").aliases[0]) == "swap");
}

BOOST_AUTO_TEST_CASE(decode_fills_the_struct) {
    const Options o = kTable.decode(
        config("{dir: out/, mode: rename, keep: 5, port: 9090, fsync: false, settle: 1m30s, "
               "paths: [a.yaml, /abs/b.yaml], labels: {app: x}, namespace: prod, "
               "extra: {k: [1, 2]}, file_mode: '0600', kube_server: 'https://k', "
               "kube_timeout: 250ms}"));
    BOOST_TEST(o.dir == "/etc/out/");
    BOOST_TEST(o.mode == "rename");
    BOOST_TEST(o.keep == 5);
    BOOST_TEST(o.port == 9090);
    BOOST_TEST(!o.fsync);
    BOOST_TEST(o.settle.count() == 90000);
    BOOST_TEST((o.paths == std::vector<std::string>{"/etc/a.yaml", "/abs/b.yaml"}));
    BOOST_TEST(o.labels.at("app") == "x");
    BOOST_TEST(o.ns.value_or("") == "prod");
    BOOST_TEST(o.extra["k"].size() == 2u);
    BOOST_TEST(o.file_mode == "0600");
    BOOST_TEST(checks::parse_octal_mode(o.file_mode) == 0600u);
    BOOST_TEST(o.connection.server == "https://k");
    BOOST_TEST(o.connection.timeout.count() == 250);
}

BOOST_AUTO_TEST_CASE(absent_options_keep_the_struct_defaults) {
    const Options o = kTable.decode(config("{dir: /d}"));
    BOOST_TEST(o.mode == "symlink");
    BOOST_TEST(o.keep == 2);
    BOOST_TEST(o.fsync);
    BOOST_TEST(!o.ns.has_value());
    BOOST_TEST(o.connection.timeout.count() == 10000);
}

BOOST_AUTO_TEST_CASE(an_alias_is_read_as_the_option) {
    BOOST_TEST(kTable.decode(config("{dir: /d, swap: rename}")).mode == "rename");
}

BOOST_AUTO_TEST_CASE(errors_name_file_value_line_component_and_option) {
    BOOST_TEST(error_of("{}") ==
               "/etc/pipe.yaml:3: sinks.out: option 'dir': missing required option (output "
               "directory)");
    BOOST_TEST(error_of("dir: /d\nmode: bogus\n") ==
               "/etc/pipe.yaml:2: sinks.out: option 'mode': expected 'symlink' or 'rename', "
               "got 'bogus'");
    BOOST_TEST(error_of("dir: /d\n\nkeep: 0\n") ==
               "/etc/pipe.yaml:3: sinks.out: option 'keep': must be between 1 and 100, got 0");
    BOOST_TEST(error_of("{dir: /d, keep: many}") ==
               "/etc/pipe.yaml:1: sinks.out: option 'keep': expected an integer, got 'many'");
    BOOST_TEST(error_of("{dir: /d, port: 70000}") ==
               "/etc/pipe.yaml:1: sinks.out: option 'port': must be between 0 and 65535, got "
               "70000");
    BOOST_TEST(error_of("{dir: ''}") ==
               "/etc/pipe.yaml:1: sinks.out: option 'dir': must not be empty");
    BOOST_TEST(error_of("{dir: /d, file_mode: '999'}") ==
               "/etc/pipe.yaml:1: sinks.out: option 'file_mode': expected octal permissions "
               "such as \"0644\", got '999'");
    BOOST_TEST(error_of("{dir: /d, kube_timeout: 0}") ==
               "/etc/pipe.yaml:1: sinks.out: option 'kube_timeout': must be at least 1ms, got 0");
    BOOST_TEST(error_of("{dir: /d, settle: soon}") ==
               "/etc/pipe.yaml:1: sinks.out: option 'settle': expected a duration such as 250ms, "
               "10s or 1m, got 'soon'");
}

BOOST_AUTO_TEST_CASE(check_option_is_the_one_rule) {
    std::string why;
    BOOST_TEST(check_option(spec("mode"), YAML::Load("rename"), why));
    BOOST_TEST(!check_option(spec("mode"), YAML::Load("[rename]"), why));
    BOOST_TEST(why == "expected a string, got a list");
    BOOST_TEST(!check_option(spec("keep"), YAML::Load("101"), why));
    BOOST_TEST(why == "must be between 1 and 100, got 101");
    OptionSpec list{"kinds", OptionType::StringList, nullptr, false, "kinds"};
    const char* const kinds[] = {"a", "b", nullptr};
    list.choices = kinds;
    BOOST_TEST(check_option(list, YAML::Load("[a, b]"), why));
    BOOST_TEST(!check_option(list, YAML::Load("[a, c]"), why));
    BOOST_TEST(why == "expected each item to be 'a' or 'b', got 'c'");
}

BOOST_AUTO_TEST_CASE(durations_print_in_their_shortest_exact_form) {
    BOOST_TEST(format_duration(0ms) == "0");
    BOOST_TEST(format_duration(250ms) == "250ms");
    BOOST_TEST(format_duration(1500ms) == "1500ms");
    BOOST_TEST(format_duration(30s) == "30s");
    BOOST_TEST(format_duration(10min) == "10m");
    BOOST_TEST(format_duration(2h) == "2h");
}

namespace {
struct Built : Component {
    explicit Built(Options o) : options(std::move(o)) {}
    Options options;
};
struct BuiltComponent : Built {
    BuiltComponent(const ComponentConfig& /*config*/, Options o) : Built(std::move(o)) {}
};
}  // namespace

// The factory CROSSOVER_PLUGIN makes from a table decodes before constructing,
// and reports a bad option as the factory's error.
BOOST_AUTO_TEST_CASE(the_factory_receives_the_decoded_struct) {
    std::string error;
    Component* c =
        detail::create_component<BuiltComponent>(kTable, config("{dir: /d, keep: 7}"), error);
    BOOST_REQUIRE(c != nullptr);
    BOOST_TEST(dynamic_cast<BuiltComponent*>(c)->options.keep == 7);
    destroy_component(c);
    BOOST_TEST(detail::create_component<BuiltComponent>(kTable, config("{dir: /d, keep: -1}"),
                                                        error) == nullptr);
    BOOST_TEST(error ==
               "/etc/pipe.yaml:1: sinks.out: option 'keep': must be between 1 and 100, got -1");
}
