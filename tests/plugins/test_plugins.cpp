// Plugins used only by the tests: a recording sink and a transform that fails
// on demand. Built into build/test-plugins/good, never installed.
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "crossover/sdk.h"

namespace {

using namespace crossover;

const OptionSpec kRecordOptions[] = {
    {"path", OptionType::String, nullptr, true, "File the sink rewrites with what it received"},
    {"fail_marker", OptionType::String, "\"\"", false,
     "Fail the write when a document contains this text"},
    {"fail_while_exists", OptionType::String, "\"\"", false,
     "Fail every write while this file exists"},
    {"count", OptionType::Int, "0", false, "Unused; exercises integer options"},
    {"delay", OptionType::Duration, "0", false,
     "Wait this long while being created (what runs meanwhile, the sources of a one-time run)"},
    {"tags", OptionType::StringList, "[]", false, "Unused; exercises list options"},
    {"labels", OptionType::StringMap, "{}", false, "Unused; exercises map options"},
    {"flag", OptionType::Bool, "false", false, "Unused; exercises bool options"},
};

class RecordSink final : public Sink {
public:
    explicit RecordSink(const ComponentConfig& config)
        : path_(config.get_path("path")),
          marker_(config.get_string("fail_marker")),
          fail_file_(config.get_path("fail_while_exists")) {
        std::this_thread::sleep_for(config.get_duration("delay"));
        if (config.get_int("count") < 0) {
            throw Error(config.where("count") + "must not be negative");
        }
    }
    Status write(const Snapshot& snapshot, WriteOutcome& outcome) noexcept override {
        return guard([&] {
            if (!fail_file_.empty() && std::filesystem::exists(fail_file_)) {
                return Status::error("failing on purpose while " + fail_file_ + " exists");
            }
            std::string text;
            for (const auto& d : snapshot.documents) {
                if (!marker_.empty() && d->content.find(marker_) != std::string::npos) {
                    return Status::error("document '" + d->name + "' contains the fail marker");
                }
                text += "== " + d->name + "\n" + d->content + "\n";
            }
            if (text == last_) {
                outcome = WriteOutcome::Unchanged;
                return Status::ok();
            }
            ++writes_;
            const std::string tmp = path_ + ".tmp";
            {
                std::ofstream out(tmp, std::ios::trunc);
                out << "writes=" << writes_ << "\n" << text;
            }
            std::filesystem::rename(tmp, path_);
            last_ = text;
            outcome = WriteOutcome::Written;
            return Status::ok();
        });
    }

private:
    std::string path_;
    std::string marker_;
    std::string fail_file_;
    std::string last_;
    int writes_ = 0;
};

}  // namespace

CROSSOVER_PLUGIN(crossover::Kind::Sink, RecordSink, "test_record",
                 "Test sink: rewrites a file with every document it receives.", kRecordOptions)
