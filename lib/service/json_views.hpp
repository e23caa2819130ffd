// The JSON shapes beed sends for runs, progress and items
// (docs/CONTROL-PROTOCOL.md). Times are ISO 8601 UTC strings, or null.
#pragma once

#include <string_view>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "state/records.hpp"
#include "sync/sync_run.hpp"

namespace pb::service {

boost::json::value time_json(UnixMillis t);
boost::json::object run_json(std::string_view connection, const state::RunRecord& run);
boost::json::object run_summary_json(const state::RunRecord& run);
boost::json::object progress_json(const sync::RunProgress& progress, std::uint64_t run_id);
// `full`: the connection's, for the SKU's confirmed_at (state::confirmed_at).
boost::json::object item_json(std::string_view sku, const state::ItemRecord& item, bool pending,
                              const state::FullConfirmation& full);

}  // namespace pb::service
