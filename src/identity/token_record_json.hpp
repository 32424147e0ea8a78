// A token record as a nlohmann JSON object, for the stores inside the
// identity library (tokens.json holds an array of them).
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

#include "palyra/identity/token_record.hpp"

namespace palyra::identity {

nlohmann::json token_record_to_json(const TokenRecord& record);
// IoFailed "<origin> <what is wrong>" (origin: "token store 'FILE': record 3").
Result<TokenRecord> token_record_from_json(const nlohmann::json& j, std::string_view origin);

}  // namespace palyra::identity
