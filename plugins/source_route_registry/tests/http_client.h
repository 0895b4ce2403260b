// A small blocking HTTP client for the registry's tests.
#pragma once

#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>

namespace crossover::test {

struct HttpReply {
    int status = 0;
    std::string body;
    std::string etag;
};

class HttpClient {
public:
    // `address` is "127.0.0.1:PORT".
    explicit HttpClient(const std::string& address, std::string token = {})
        : session_(address.substr(0, address.rfind(':')),
                   static_cast<Poco::UInt16>(std::stoi(address.substr(address.rfind(':') + 1)))),
          token_(std::move(token)) {
        session_.setTimeout(Poco::Timespan(30, 0));
    }

    HttpReply call(const std::string& method, const std::string& path, const std::string& body = {},
                   const std::vector<std::pair<std::string, std::string>>& headers = {}) {
        Poco::Net::HTTPRequest request(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
        if (!token_.empty()) {
            request.set("Authorization", "Bearer " + token_);
        }
        for (const auto& [k, v] : headers) {
            request.set(k, v);
        }
        if (!body.empty() || method == "PUT" || method == "POST") {
            request.setContentType("application/json");
            request.setContentLength(static_cast<std::streamsize>(body.size()));
        }
        session_.sendRequest(request) << body;
        Poco::Net::HTTPResponse response;
        std::istream& in = session_.receiveResponse(response);
        HttpReply out;
        out.status = static_cast<int>(response.getStatus());
        out.etag = response.get("ETag", "");
        std::ostringstream s;
        Poco::StreamCopier::copyStream(in, s);
        out.body = s.str();
        return out;
    }

private:
    Poco::Net::HTTPClientSession session_;
    std::string token_;
};

}  // namespace crossover::test
