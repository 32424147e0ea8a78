#include "json_log.hpp"

#include <fmt/format.h>

#include <cctype>
#include <ctime>
#include <nlohmann/json.hpp>
#include <vector>

namespace palyra::daemon {
namespace {

// Our names for the keys every consumer may rely on.
std::string stable_key(std::string_view key) {
  if (key == "cert_sha256") return "fingerprint";
  if (key == "reason") return "error";
  return std::string(key);
}

bool is_key_char(char c) {
  return std::islower(static_cast<unsigned char>(c)) || c == '_';
}

// `key=` at `at` (a word's start): the key's length, or 0.
std::size_t key_length(std::string_view text, std::size_t at) {
  std::size_t end = at;
  while (end < text.size() && (is_key_char(text[end]) || std::isdigit(text[end]))) ++end;
  const bool starts_with_letter = end > at && is_key_char(text[at]);
  return starts_with_letter && end < text.size() && text[end] == '=' ? end - at : 0;
}

// A quoted value from just after its opening quote: unescapes \" and \\,
// and moves `at` past the closing quote.
std::string quoted_value(std::string_view text, std::size_t& at) {
  std::string value;
  while (at < text.size() && text[at] != '"') {
    if (text[at] == '\\' && at + 1 < text.size()) ++at;
    value += text[at++];
  }
  if (at < text.size()) ++at;  // the closing quote
  return value;
}

// RFC 3339 in UTC with milliseconds, whatever the host's time zone.
std::string utc_timestamp(std::chrono::system_clock::time_point time) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch());
  const std::time_t seconds = std::chrono::system_clock::to_time_t(
      std::chrono::system_clock::time_point(std::chrono::duration_cast<std::chrono::seconds>(ms)));
  std::tm utc{};
  ::gmtime_r(&seconds, &utc);
  const auto fraction = ms.count() % 1000;
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", utc.tm_year + 1900,
                     utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                     fraction < 0 ? fraction + 1000 : fraction);
}

}  // namespace

std::string json_log_line(std::chrono::system_clock::time_point time, std::string_view level,
                          std::string_view text) {
  nlohmann::ordered_json line;
  line["time"] = utc_timestamp(time);
  line["level"] = std::string(level);
  line["message"] = "";
  std::vector<std::string> words;
  std::size_t at = 0;
  while (at < text.size()) {
    while (at < text.size() && text[at] == ' ') ++at;
    if (at >= text.size()) break;
    if (const std::size_t length = key_length(text, at); length > 0) {
      const std::string key = stable_key(text.substr(at, length));
      at += length + 1;
      std::string value;
      if (at < text.size() && text[at] == '"') {
        ++at;
        value = quoted_value(text, at);
      } else {
        const std::size_t end = std::min(text.find(' ', at), text.size());
        value = std::string(text.substr(at, end - at));
        at = end;
        // "cert_sha256=ab…; 3 live connections": the punctuation is the sentence's.
        while (!value.empty() && (value.back() == ';' || value.back() == ',')) value.pop_back();
      }
      line[key] = value;
      continue;
    }
    const std::size_t end = std::min(text.find(' ', at), text.size());
    words.emplace_back(text.substr(at, end - at));
    at = end;
  }
  std::string message;
  for (const auto& word : words) {
    if (!message.empty()) message += ' ';
    message += word;
  }
  line["message"] = message;
  // Replace, not throw: a peer-supplied string in a log line may not be UTF-8.
  return line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void JsonLogFormatter::format(const spdlog::details::log_msg& message, spdlog::memory_buf_t& out) {
  const auto level = spdlog::level::to_string_view(message.level);
  const std::string line =
      json_log_line(message.time, std::string_view(level.data(), level.size()),
                    std::string_view(message.payload.data(), message.payload.size()));
  out.append(line.data(), line.data() + line.size());
  out.push_back('\n');
}

std::unique_ptr<spdlog::formatter> JsonLogFormatter::clone() const {
  return std::make_unique<JsonLogFormatter>();
}

}  // namespace palyra::daemon
