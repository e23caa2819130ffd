// SKUs asked for by name in a query parameter ("sku=A,B,C"): a look-up of the few SKUs a map
// lacks, split so that no request passes the platform's count or URL-length limits.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace pb::connectors {

// URL-encodes `skus` into values joined by `separator` (as it must appear in the URL: "," or
// "%2C"), each of at most `max_skus` SKUs and, past its first SKU, at most `max_chars`
// characters. An empty SKU, or one holding a comma, is left out: the platform splits the
// parameter at commas, so it cannot be asked for this way (the catalogue walk finds it).
std::vector<std::string> sku_lists(const std::vector<std::string>& skus, std::string_view separator,
                                   std::size_t max_skus, std::size_t max_chars);

}  // namespace pb::connectors
