// Status: the error-reporting currency of the plugin ABI.
//
// Every call that crosses the plugin boundary is noexcept and reports failure
// by returning a Status instead of throwing: exceptions never leave a plugin.
#pragma once

#include <exception>
#include <string>
#include <utility>

namespace crossover {

class Status {
public:
    Status() = default;
    static Status ok() { return Status(); }
    static Status error(std::string message) {
        Status s;
        s.failed_ = true;
        s.message_ = std::move(message);
        return s;
    }

    [[nodiscard]] bool is_ok() const noexcept { return !failed_; }
    explicit operator bool() const noexcept { return !failed_; }
    [[nodiscard]] const std::string& message() const noexcept { return message_; }

private:
    bool failed_ = false;
    std::string message_;
};

// Thrown inside plugin code (never across the boundary) to report an error
// with the object and path it concerns; the SDK's adapters turn it into a
// Status. Plain std::exception is caught too.
class Error : public std::exception {
public:
    explicit Error(std::string message) : message_(std::move(message)) {}
    const char* what() const noexcept override { return message_.c_str(); }

private:
    std::string message_;
};

}  // namespace crossover
