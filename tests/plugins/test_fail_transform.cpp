#include "crossover/sdk.h"

namespace {

using namespace crossover;

const OptionSpec kOptions[] = {
    {"fail_marker", OptionType::String, nullptr, true,
     "Fail when an input document contains this text"},
};

class FailTransform final : public Transform {
public:
    explicit FailTransform(const ComponentConfig& config)
        : marker_(config.get_string("fail_marker")) {}
    Status transform(const std::vector<Input>& inputs, SnapshotPtr& output) noexcept override {
        return guard([&] {
            auto out = std::make_shared<Snapshot>();
            for (const auto& in : inputs) {
                for (const auto& d : in.snapshot->documents) {
                    if (d->content.find(marker_) != std::string::npos) {
                        throw Error("document '" + d->name + "' contains '" + marker_ + "'");
                    }
                    out->documents.push_back(d);
                }
            }
            output = out;
            return Status::ok();
        });
    }

private:
    std::string marker_;
};

}  // namespace

CROSSOVER_PLUGIN(crossover::Kind::Transform, FailTransform, "test_fail",
                 "Test transform: passes documents through, fails on a marker.", kOptions)
