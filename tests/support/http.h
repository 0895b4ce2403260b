// Scraping the running binary's HTTP endpoint (/healthz, /readyz, /metrics).
#pragma once

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>

#include <regex>
#include <string>

#include "process.h"

namespace crossover::test {

struct Http {
    int status = 0;
    std::string body;
};

// GET http://hostport/path; throws Poco::Exception when no answer comes
// within `timeout` seconds.
inline Http get(const std::string& hostport, const std::string& path, int timeout = 5) {
    const auto colon = hostport.rfind(':');
    Poco::Net::HTTPClientSession session(
        hostport.substr(0, colon),
        static_cast<Poco::UInt16>(std::stoi(hostport.substr(colon + 1))));
    session.setTimeout(Poco::Timespan(timeout, 0));
    Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_GET, path);
    session.sendRequest(request);
    Poco::Net::HTTPResponse response;
    std::istream& in = session.receiveResponse(response);
    Http out;
    out.status = static_cast<int>(response.getStatus());
    Poco::StreamCopier::copyToString(in, out.body);
    return out;
}

// The address the process logged it serves on ("serving ... on http://ADDR"),
// or "" when it does not say so in time.
inline std::string address_of(Process& p) {
    std::string addr;
    eventually([&] {
        std::smatch m;
        const std::string err = p.err();
        if (std::regex_search(err, m, std::regex("on http://([0-9.]+:[0-9]+)"))) {
            addr = m[1];
            return true;
        }
        return false;
    });
    return addr;
}

}  // namespace crossover::test
