#include "service/json_views.hpp"

namespace pb::service {

boost::json::value time_json(UnixMillis t) {
  if (t == 0) return nullptr;
  return boost::json::value(format_time(t));
}

boost::json::object run_summary_json(const state::RunRecord& run) {
  return {{"id", run.id},
          {"kind", to_string(run.kind)},
          {"trigger", to_string(run.trigger)},
          {"started_at", time_json(run.started_at)},
          {"finished_at", time_json(run.finished_at)},
          {"result", to_string(run.result)},
          {"pushed", run.pushed},
          {"rejected", run.rejected}};
}

boost::json::object run_json(std::string_view connection, const state::RunRecord& run) {
  auto o = run_summary_json(run);
  o["connection"] = connection;
  o["read"] = run.read;
  o["changed"] = run.changed;
  o["bad_rows"] = run.bad_rows;
  o["duration_ms"] = run.finished_at ? run.finished_at - run.started_at : 0;
  o["error"] = run.error;
  return o;
}

boost::json::object progress_json(const sync::RunProgress& progress, std::uint64_t run_id) {
  // A ticket for the run queued behind `progress` is still waiting.
  const bool queued = progress.run_id != run_id;
  return {{"run_id", run_id},
          {"phase", to_string(queued ? sync::RunPhase::queued : progress.phase)},
          {"total", queued ? 0 : progress.total},
          {"pushed", queued ? 0 : progress.pushed},
          {"rejected", queued ? 0 : progress.rejected},
          {"mapped", queued ? 0 : progress.mapped},
          {"mapping_total", queued ? 0 : progress.mapping_total},
          {"elapsed_ms", queued ? 0 : now_millis() - progress.started_at}};
}

boost::json::object item_json(std::string_view sku, const state::ItemRecord& item, bool pending,
                              const state::FullConfirmation& full) {
  boost::json::object o{{"sku", sku},
                        {"quantity", item.quantity},
                        {"updated_at", time_json(item.updated_at)},
                        {"wanted", item.wanted},
                        {"listed", item.listed},
                        {"confirmed_at", time_json(state::confirmed_at(sku, item, full))},
                        {"pending", pending},
                        {"error", item.error}};
  if (item.store_quantity)
    o["store_quantity"] = *item.store_quantity;
  else
    o["store_quantity"] = nullptr;
  return o;
}

}  // namespace pb::service
