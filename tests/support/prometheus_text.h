// Reading Prometheus text expositions and the metric tables of the docs, so
// tests can check that a document lists exactly what the binary exposes.
#pragma once

#include <algorithm>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>

namespace crossover::test {

struct MetricFamily {
    std::string type;
    std::set<std::string> labels;
};

// The table rows of a Markdown document: | `crossover_name` | type | `label`, `label` | meaning |
// (rows listed twice are reported in `duplicates`).
inline std::map<std::string, MetricFamily> documented_metrics(const std::string& markdown,
                                                              std::set<std::string>* duplicates) {
    std::map<std::string, MetricFamily> out;
    std::istringstream in(markdown);
    const std::regex row(R"(^\| `(crossover_[a-z_]+)` \| ([a-z]+) \| ([^|]*)\|)");
    const std::regex label("`([a-z_]+)`");
    std::string line;
    while (std::getline(in, line)) {
        std::smatch m;
        if (!std::regex_search(line, m, row)) {
            continue;
        }
        MetricFamily f;
        f.type = m[2];
        const std::string labels = m[3];
        for (std::sregex_iterator it(labels.begin(), labels.end(), label), end; it != end; ++it) {
            f.labels.insert((*it)[1]);
        }
        if (out.count(m[1]) != 0 && duplicates != nullptr) {
            duplicates->insert(m[1]);
        }
        out[m[1]] = f;
    }
    return out;
}

// Families of a Prometheus text exposition: # TYPE lines, and the label names
// seen on their samples (histogram series folded into their family, `le` left out).
inline std::map<std::string, MetricFamily> exposed_metrics(const std::string& text) {
    std::map<std::string, MetricFamily> out;
    std::istringstream in(text);
    const std::regex type_line(R"(^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) ([a-z]+)$)");
    const std::regex sample(R"(^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})? )");
    const std::regex label(R"(([a-zA-Z_][a-zA-Z0-9_]*)=")");
    std::string line;
    while (std::getline(in, line)) {
        std::smatch m;
        if (std::regex_search(line, m, type_line)) {
            out[m[1]].type = m[2];
            continue;
        }
        if (line.empty() || line[0] == '#' || !std::regex_search(line, m, sample)) {
            continue;
        }
        std::string name = m[1];
        for (const char* suffix : {"_bucket", "_sum", "_count"}) {
            const std::string s(suffix);
            const std::string base = name.substr(0, name.size() - std::min(name.size(), s.size()));
            if (name.size() > s.size() && name.compare(base.size(), s.size(), s) == 0 &&
                out.count(base) != 0 && out[base].type == "histogram") {
                name = base;
                break;
            }
        }
        const std::string labels = m[3];
        for (std::sregex_iterator it(labels.begin(), labels.end(), label), end; it != end; ++it) {
            if ((*it)[1] != "le") {
                out[name].labels.insert((*it)[1]);
            }
        }
    }
    return out;
}

// The value of the sample written exactly as `series` (name{labels} as exposed),
// or nullopt when there is none.
inline std::optional<double> sample_value(const std::string& text, const std::string& series) {
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        if (line.size() > series.size() && line.compare(0, series.size(), series) == 0 &&
            line[series.size()] == ' ') {
            return std::stod(line.substr(series.size() + 1));
        }
    }
    return std::nullopt;
}

}  // namespace crossover::test
