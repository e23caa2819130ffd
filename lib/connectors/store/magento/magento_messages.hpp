// Reading what Magento's REST API answers when it refuses a call: its error bodies
// ({"message", "parameters"}, with the placeholders of Magento's phrases) and the two
// input-limit messages the connector adapts to. Pure functions, tested on their own.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/value.hpp>

namespace pb::connectors {

// `message` with Magento's placeholders filled from `parameters`: a list fills %1, %2, ...
// (1-based), an object fills %name. The longest matching name wins (%10 before %1), as in
// Magento's Phrase renderer; a placeholder without a value is left as it is.
std::string substitute_placeholders(std::string_view message, const boost::json::value* parameters);

// The readable text of an error body: the message with its parameters substituted and, for a
// validation failure ({"message": "Validation Failed", "errors": [...]}), each error's message
// too. Cut to a length fit for a log line. Empty when the body is not such an object.
std::string error_text(const boost::json::value& body);

// "Maximum items of type "X" is N" (Web API input limits on, too many items in a list): N.
std::optional<std::size_t> input_list_limit(std::string_view text);

// "Maximum SearchCriteria pageSize is N" (a page asked for is larger than the limit): N.
std::optional<std::size_t> page_size_limit(std::string_view text);

}  // namespace pb::connectors
