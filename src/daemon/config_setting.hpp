// How palyrad's settings are declared: one Setting per key (TOML key,
// environment variable, flag, kind, description, and how to store and show
// its value), built by the helpers below. The table itself is in config.cpp.
#pragma once

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "config.hpp"

namespace palyra::daemon::config_setting {

enum class Kind { Bool, Port, Count, Text, Duration };

struct Setting {
  const char* section;  // TOML table, "" for the top level
  const char* key;
  const char* flag;  // "" when there is no flag
  Kind kind;
  const char* description;
  // Stores a parsed value; only one of these is used, by kind.
  std::function<void(Config&, bool)> set_bool;
  std::function<void(Config&, std::uint64_t)> set_number;
  std::function<void(Config&, std::string)> set_text;
  std::function<std::string(const Config&)> show;
};

inline std::string env_name(const Setting& s) {
  std::string name = "PALYRA_";
  if (*s.section != '\0') name += std::string(s.section) + "_";
  name += s.key;
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return std::toupper(c); });
  return name;
}

inline std::string toml_key(const Setting& s) {
  return *s.section != '\0' ? fmt::format("{}.{}", s.section, s.key) : std::string(s.key);
}

inline Setting boolean(const char* section, const char* key, const char* flag, bool Config::*member,
                       const char* description) {
  return {section,
          key,
          flag,
          Kind::Bool,
          description,
          [member](Config& c, bool v) { c.*member = v; },
          {},
          {},
          [member](const Config& c) { return std::string(c.*member ? "true" : "false"); }};
}

inline Setting port(const char* section, const char* key, const char* flag,
                    std::uint16_t Config::*member, const char* description) {
  return {section,
          key,
          flag,
          Kind::Port,
          description,
          {},
          [member](Config& c, std::uint64_t v) { c.*member = static_cast<std::uint16_t>(v); },
          {},
          [member](const Config& c) { return std::to_string(c.*member); }};
}

inline Setting count(const char* section, const char* key, const char* flag,
                     std::uint64_t Config::*member, const char* description) {
  return {section,
          key,
          flag,
          Kind::Count,
          description,
          {},
          [member](Config& c, std::uint64_t v) { c.*member = v; },
          {},
          [member](const Config& c) { return std::to_string(c.*member); }};
}

// A duration written "20s", "12h", "1d12h" (identity::parse_duration), > 0.
inline Setting duration(const char* section, const char* key, const char* flag,
                        std::chrono::seconds Config::*member, const char* description) {
  return {section,
          key,
          flag,
          Kind::Duration,
          description,
          {},
          [member](Config& c, std::uint64_t v) { c.*member = std::chrono::seconds(v); },
          {},
          [member](const Config& c) { return fmt::format("{}s", (c.*member).count()); }};
}

inline Setting text(const char* section, const char* key, const char* flag,
                    std::string Config::*member, const char* description) {
  return {section,
          key,
          flag,
          Kind::Text,
          description,
          {},
          {},
          [member](Config& c, std::string v) { c.*member = std::move(v); },
          [member](const Config& c) { return c.*member; }};
}

}  // namespace palyra::daemon::config_setting
