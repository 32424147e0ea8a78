// A qlog trace as ngtcp2 writes it, read back record by record: JSON-SEQ
// (RFC 7464), each record 0x1e, one JSON text and a newline; the first is
// the header, the rest are events. Every record goes through nlohmann's
// parser, so a trace qvis could not load fails here.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

namespace palyra::testing {

// The string at a JSON pointer ("/trace/vantage_point/type"); empty when
// there is none, so checks of a trace that failed to read fail, not throw.
inline std::string text_at(const nlohmann::json& json, const char* pointer) {
  const nlohmann::json::json_pointer at(pointer);
  return json.contains(at) && json[at].is_string() ? json[at].get<std::string>() : "";
}

struct QlogTrace {
  nlohmann::json header;
  std::vector<nlohmann::json> events;

  std::string vantage_point() const { return text_at(header, "/trace/vantage_point/type"); }
  // The client's first destination connection ID, which both sides' traces
  // of a connection carry.
  std::string group_id() const { return text_at(header, "/trace/common_fields/group_id"); }
  std::set<std::string> event_names() const {
    std::set<std::string> names;
    for (const auto& event : events) names.insert(text_at(event, "/name"));
    return names;
  }
  // initial_source_connection_id of the transport parameters `owner`
  // ("local" or "remote") set; empty when no such event.
  std::string initial_scid(const std::string& owner) const {
    for (const auto& event : events) {
      if (text_at(event, "/name") == "transport:parameters_set" &&
          text_at(event, "/data/owner") == owner) {
        return text_at(event, "/data/initial_source_connection_id");
      }
    }
    return {};
  }
};

// Reads `path` into `trace`; the failure names the record that is not
// JSON-SEQ of JSON objects.
inline ::testing::AssertionResult read_qlog(const std::filesystem::path& path, QlogTrace& trace) {
  std::ifstream in(path, std::ios::binary);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (text.empty() || text.front() != '\x1e') {
    return ::testing::AssertionFailure() << path << " does not start with a record separator";
  }
  std::size_t index = 0;
  for (std::size_t at = 1; at <= text.size(); ++index) {
    std::size_t end = text.find('\x1e', at);
    if (end == std::string::npos) end = text.size();
    const std::string record = text.substr(at, end - at);
    at = end + 1;
    if (record.empty() || record.back() != '\n') {
      return ::testing::AssertionFailure()
             << path << " record " << index << " does not end with a newline: " << record;
    }
    auto json = nlohmann::json::parse(record, nullptr, /*allow_exceptions=*/false);
    if (json.is_discarded() || !json.is_object()) {
      return ::testing::AssertionFailure()
             << path << " record " << index << " is not a JSON object: " << record;
    }
    if (index == 0) {
      trace.header = std::move(json);
    } else {
      trace.events.push_back(std::move(json));
    }
  }
  if (text_at(trace.header, "/qlog_format") != "JSON-SEQ" || !trace.header.contains("trace")) {
    return ::testing::AssertionFailure() << path << " has no JSON-SEQ qlog header";
  }
  return ::testing::AssertionSuccess();
}

// The files in `dir`, by name.
inline std::map<std::string, std::filesystem::path> files_in(const std::filesystem::path& dir) {
  std::map<std::string, std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    files.emplace(entry.path().filename().string(), entry.path());
  }
  return files;
}

}  // namespace palyra::testing
