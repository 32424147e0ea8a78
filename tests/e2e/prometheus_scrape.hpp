// A scrape of palyrad's /metrics for the tests: one HTTP/1.0 GET over a
// plain loopback socket, and a strict reader of the text exposition format
// (version 0.0.4) that refuses what Prometheus would refuse.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmath>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "palyra/common/result.hpp"

namespace palyra::e2e {

// The body of GET /metrics from "127.0.0.1:PORT"; IoFailed on any error,
// or when the status is not 200.
inline Result<std::string> http_get_metrics(const std::string& address) {
  const auto colon = address.rfind(':');
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<std::uint16_t>(std::stoi(address.substr(colon + 1))));
  if (::inet_pton(AF_INET, address.substr(0, colon).c_str(), &to.sin_addr) != 1) {
    return Error(Errc::InvalidArgument, "not an IPv4 address: " + address);
  }
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Error(Errc::IoFailed, "socket");
  timeval timeout{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&to), sizeof to) != 0) {
    ::close(fd);
    return Error(Errc::IoFailed, "cannot connect to " + address);
  }
  const std::string request = "GET /metrics HTTP/1.0\r\nHost: " + address + "\r\n\r\n";
  if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(request.size())) {
    ::close(fd);
    return Error(Errc::IoFailed, "cannot send the request");
  }
  std::string response;
  char buffer[4096];
  ssize_t n = 0;
  while ((n = ::recv(fd, buffer, sizeof buffer, 0)) > 0) response.append(buffer, n);
  ::close(fd);
  const auto body = response.find("\r\n\r\n");
  const bool ok = response.starts_with("HTTP/1.1 200 ") || response.starts_with("HTTP/1.0 200 ");
  if (body == std::string::npos || !ok) {
    return Error(Errc::IoFailed, "unexpected response: " + response.substr(0, 200));
  }
  return response.substr(body + 4);
}

// Samples by their name and labels as written: "name{a=\"b\"}" -> value.
class Scrape {
 public:
  // Every line is a `# HELP name text`, a `# TYPE name type`, or a sample
  // `name{labels} value` whose family has both; InvalidArgument naming the
  // first line that is not.
  static Result<Scrape> parse(const std::string& text) {
    static const std::regex help(R"(# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) (.+))");
    static const std::regex type(
        R"(# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped))");
    static const std::string label = R"([a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*")";
    static const std::string value =
        R"([-+]?(?:[0-9]+(?:\.[0-9]*)?(?:[eE][-+]?[0-9]+)?|Inf|NaN|Nan))";
    static const std::regex sample("([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{" + label + "(?:," + label +
                                   ")*,?\\})? (" + value + ")(?: -?[0-9]+)?");
    Scrape scrape;
    std::map<std::string, std::string> types;
    std::set<std::string> helps;
    std::size_t start = 0;
    std::size_t number = 0;
    while (start < text.size()) {
      auto end = text.find('\n', start);
      if (end == std::string::npos) {
        return Error(Errc::InvalidArgument, "the last line has no newline");
      }
      const std::string line = text.substr(start, end - start);
      start = end + 1;
      ++number;
      auto bad = [&](const char* why) {
        return Error(Errc::InvalidArgument,
                     "line " + std::to_string(number) + " (" + why + "): " + line);
      };
      std::smatch m;
      if (std::regex_match(line, m, help)) {
        if (!helps.insert(m[1]).second) return bad("a second HELP");
      } else if (std::regex_match(line, m, type)) {
        if (!types.emplace(m[1], m[2]).second) return bad("a second TYPE");
      } else if (std::regex_match(line, m, sample)) {
        const std::string name = m[1];
        const std::string family = family_of(name, types);
        if (!types.contains(family) || !helps.contains(family)) {
          return bad("a sample without HELP and TYPE before it");
        }
        const std::string key = name + std::string(m[2]);
        const std::string text_value = m[3];
        // prometheus-cpp writes NaN as "Nan"; Prometheus reads either.
        const double parsed = text_value.ends_with("an") || text_value.ends_with("aN")
                                  ? std::nan("")
                                  : std::stod(text_value);
        if (!scrape.values_.emplace(key, parsed).second) return bad("a repeated sample");
      } else {
        return bad("neither HELP, TYPE nor a sample");
      }
    }
    scrape.types_ = std::move(types);
    return scrape;
  }

  std::optional<double> value(const std::string& key) const {
    auto it = values_.find(key);
    if (it == values_.end()) return std::nullopt;
    return it->second;
  }
  // 0 for a sample that is absent (a counter not yet created).
  double counter(const std::string& key) const { return value(key).value_or(0); }
  std::optional<std::string> type_of(const std::string& family) const {
    auto it = types_.find(family);
    if (it == types_.end()) return std::nullopt;
    return it->second;
  }
  std::size_t size() const { return values_.size(); }

 private:
  // A histogram's _bucket, _sum and _count belong to the histogram's family.
  static std::string family_of(const std::string& name,
                               const std::map<std::string, std::string>& types) {
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      const std::string s(suffix);
      if (name.size() > s.size() && name.ends_with(s)) {
        const std::string base = name.substr(0, name.size() - s.size());
        auto it = types.find(base);
        if (it != types.end() && (it->second == "histogram" || it->second == "summary")) {
          return base;
        }
      }
    }
    return name;
  }

  std::map<std::string, double> values_;
  std::map<std::string, std::string> types_;
};

}  // namespace palyra::e2e
