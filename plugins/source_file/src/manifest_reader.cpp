#include "manifest_reader.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "crossover/files.h"
#include "crossover/status.h"
#include "crossover/yaml_load.h"

namespace crossover::file_source {

namespace fs = std::filesystem;

namespace {

std::string read_file(const std::string& path) {
    std::string problem;
    auto text = read_regular_file(path, problem);
    if (!text) {
        throw Error(path + ": " + problem);
    }
    return std::move(*text);
}

std::string at(const std::string& file, const YAML::Node& node) {
    if (!node || node.Mark().is_null()) {
        return file;
    }
    return file + ":" + std::to_string(node.Mark().line + 1);
}

void add_document(Snapshot& out, std::map<std::string, ObjectRef>& owners, std::string name,
                  std::string content, const ObjectRef& origin, const std::string& where) {
    auto [it, inserted] = owners.emplace(name, origin);
    if (!inserted) {
        throw Error(where + ": key '" + name + "' of " + origin.describe() +
                    " is also provided by " + it->second.describe() +
                    "; each output file must come from one place");
    }
    auto doc = std::make_shared<Document>();
    doc->name = std::move(name);
    doc->content = std::move(content);
    doc->origin = origin;
    out.documents.push_back(std::move(doc));
}

void add_object(const YAML::Node& obj, const std::string& file, Snapshot& out,
                std::map<std::string, ObjectRef>& owners) {
    if (!obj.IsMap()) {
        throw Error(at(file, obj) + ": expected a Kubernetes object (a map)");
    }
    const YAML::Node kind = obj["kind"];
    if (!kind || !kind.IsScalar()) {
        throw Error(at(file, obj) + ": object has no 'kind'");
    }
    if (kind.Scalar() == "List" ||
        (kind.Scalar().size() > 4 &&
         kind.Scalar().compare(kind.Scalar().size() - 4, 4, "List") == 0 && obj["items"])) {
        const YAML::Node items = obj["items"];
        if (items && !items.IsSequence()) {
            throw Error(at(file, items) + ": List 'items' must be a list");
        }
        if (items) {
            for (const auto& item : items) {
                add_object(item, file, out, owners);
            }
        }
        return;
    }
    ObjectRef ref;
    ref.kind = kind.Scalar();
    const YAML::Node meta = obj["metadata"];
    if (!meta || !meta.IsMap() || !meta["name"] || !meta["name"].IsScalar()) {
        throw Error(at(file, obj) + ": " + ref.kind + " has no metadata.name");
    }
    ref.name = meta["name"].Scalar();
    if (meta["namespace"] && meta["namespace"].IsScalar()) {
        ref.ns = meta["namespace"].Scalar();
    }
    if (meta["resourceVersion"] && meta["resourceVersion"].IsScalar()) {
        ref.resource_version = meta["resourceVersion"].Scalar();
    }
    if (ref.kind == "ConfigMap") {
        for (const char* field : {"data", "binaryData"}) {
            const YAML::Node data = obj[field];
            if (!data || data.IsNull()) {
                continue;
            }
            if (!data.IsMap()) {
                throw Error(at(file, data) + ": " + ref.describe() + ": '" + field +
                            "' must be a map of keys to strings");
            }
            for (const auto& kv : data) {
                if (!kv.second.IsScalar()) {
                    throw Error(at(file, kv.second) + ": " + ref.describe() + ": " + field + "." +
                                kv.first.Scalar() + " must be a string");
                }
                std::string content = kv.second.Scalar();
                if (std::string(field) == "binaryData") {
                    try {
                        content = base64_decode(content);
                    } catch (const Error& e) {
                        throw Error(at(file, kv.second) + ": " + ref.describe() + ": binaryData." +
                                    kv.first.Scalar() + ": " + e.what());
                    }
                }
                add_document(out, owners, kv.first.Scalar(), std::move(content), ref,
                             at(file, kv.first));
            }
        }
        return;
    }
    auto object = std::make_shared<Object>();
    object->ref = ref;
    if (obj["apiVersion"] && obj["apiVersion"].IsScalar()) {
        object->api_version = obj["apiVersion"].Scalar();
    }
    object->body = obj;
    out.objects.push_back(std::move(object));
}

// Why a file is neither manifests nor a DiscoveryResponse, naming the file
// and line.
std::string not_input_reason(const std::vector<YAML::Node>& docs, const std::string& file) {
    const std::string expected =
        "expected Kubernetes objects (apiVersion and kind) or an xDS DiscoveryResponse "
        "(resources)";
    for (const auto& d : docs) {
        if (d.IsNull()) {
            continue;
        }
        if (d.IsSequence()) {
            return at(file, d) + ": a YAML list; " + expected;
        }
        if (!d.IsMap()) {
            return at(file, d) + ": a single value; " + expected;
        }
        if (d["apiVersion"] && !d["kind"]) {
            return at(file, d) + ": apiVersion without kind (is 'kind' misspelt?); " + expected;
        }
        if (d["kind"] && !d["apiVersion"]) {
            return at(file, d) + ": kind without apiVersion; " + expected;
        }
        return at(file, d) + ": " + expected;
    }
    return file + ": " + expected;
}

}  // namespace

std::string base64_decode(const std::string& text) {
    std::string out;
    unsigned int buffer = 0;
    int bits = 0;
    std::size_t padding = 0;
    for (const char c : text) {
        unsigned int v = 0;
        if (c >= 'A' && c <= 'Z') {
            v = static_cast<unsigned int>(c - 'A');
        } else if (c >= 'a' && c <= 'z') {
            v = static_cast<unsigned int>(c - 'a') + 26;
        } else if (c >= '0' && c <= '9') {
            v = static_cast<unsigned int>(c - '0') + 52;
        } else if (c == '+') {
            v = 62;
        } else if (c == '/') {
            v = 63;
        } else if (c == '=') {
            ++padding;
            continue;
        } else if (c == '\n' || c == '\r' || c == ' ' || c == '\t') {
            continue;
        } else {
            throw Error("invalid base64 character");
        }
        if (padding != 0) {
            throw Error("invalid base64: data after padding");
        }
        buffer = (buffer << 6) | v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<char>((buffer >> bits) & 0xffu));
        }
    }
    if (bits >= 6 || padding > 2) {
        throw Error("invalid base64 length");
    }
    return out;
}

std::vector<std::string> expand_paths(const std::vector<std::string>& paths,
                                      std::vector<std::string>& missing) {
    std::vector<std::string> files;
    for (const auto& p : paths) {
        std::error_code ec;
        if (fs::is_directory(p, ec)) {
            std::vector<std::string> found;
            for (const auto& entry : fs::directory_iterator(p, ec)) {
                const std::string name = entry.path().filename().string();
                const std::string ext = entry.path().extension().string();
                if (!name.empty() && name[0] != '.' && entry.is_regular_file(ec) &&
                    (ext == ".yaml" || ext == ".yml" || ext == ".json")) {
                    found.push_back(entry.path().string());
                }
            }
            std::sort(found.begin(), found.end());
            if (found.empty()) {
                // Its last file deleted (or not yet written): an empty output
                // is never what the user meant.
                missing.push_back("directory " + p + " holds no *.yaml, *.yml or *.json file");
            }
            files.insert(files.end(), found.begin(), found.end());
        } else if (fs::exists(p, ec)) {
            files.push_back(p);
        } else {
            missing.push_back("file " + p);
        }
    }
    return files;
}

void add_manifest_text(const std::string& text, const std::string& file, Snapshot& out) {
    std::map<std::string, ObjectRef> owners;
    for (const auto& d : out.documents) {
        owners.emplace(d->name, d->origin);
    }
    // An empty file is most often a save in progress (editors truncate, then
    // write): incomplete input, so the last output stays.
    if (text.find_first_not_of(" \t\r\n") == std::string::npos) {
        out.complete = false;
        out.missing.push_back("file " + file + " is empty");
        return;
    }
    std::vector<YAML::Node> docs;
    try {
        // As kubectl: a key given twice is an error, not first-wins.
        YamlLimits limits;
        limits.refuse_duplicate_keys = true;
        docs = load_yaml_all(text, limits);
    } catch (const YAML::Exception& e) {
        throw Error(file + ":" + std::to_string(e.mark.line + 1) + ": invalid YAML: " + e.msg);
    }
    if (std::all_of(docs.begin(), docs.end(), [](const YAML::Node& d) { return d.IsNull(); })) {
        // Comments only: a file that says it holds no objects.
        return;
    }
    const bool manifest = std::any_of(docs.begin(), docs.end(), [](const YAML::Node& d) {
        return d.IsMap() && d["kind"] && d["apiVersion"];
    });
    if (!manifest) {
        // A DiscoveryResponse kept next to the manifests is itself one
        // document. Anything else is not what the user meant to give.
        if (docs.size() == 1 && docs[0].IsMap() && docs[0]["resources"]) {
            ObjectRef ref{"File", "", file, ""};
            add_document(out, owners, fs::path(file).filename().string(), text, ref, file);
            return;
        }
        throw Error(not_input_reason(docs, file));
    }
    for (const auto& d : docs) {
        if (d.IsNull()) {
            continue;
        }
        add_object(d, file, out, owners);
    }
}

Snapshot read_manifests(const std::vector<std::string>& files) {
    Snapshot out;
    for (const auto& f : files) {
        add_manifest_text(read_file(f), f, out);
    }
    std::sort(out.documents.begin(), out.documents.end(),
              [](const DocumentPtr& a, const DocumentPtr& b) { return a->name < b->name; });
    std::sort(out.objects.begin(), out.objects.end(), [](const ObjectPtr& a, const ObjectPtr& b) {
        return std::tie(a->ref.kind, a->ref.ns, a->ref.name) <
               std::tie(b->ref.kind, b->ref.ns, b->ref.name);
    });
    return out;
}

}  // namespace crossover::file_source
