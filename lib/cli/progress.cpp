#include "cli/progress.hpp"

#include <algorithm>
#include <utility>
#include <vector>

#include "cli/reply_fields.hpp"
#include "cli/text.hpp"

namespace pb::cli {
namespace json = boost::json;

std::string mapping_text(const json::value& progress) {
  std::string out = "mapping " + with_thousands(integer(progress, "mapped").value_or(0));
  if (const std::int64_t total = integer(progress, "mapping_total").value_or(0); total > 0)
    out += "/" + with_thousands(total);
  return out;
}

void PushRate::observe(const json::value& progress) {
  if (start_ms_ >= 0 || text(progress, "phase", "") != "pushing") return;
  start_ms_ = integer(progress, "elapsed_ms").value_or(0);
  start_count_ = integer(progress, "pushed").value_or(0);
}

std::optional<std::int64_t> PushRate::per_second(const json::value& progress) const {
  const std::int64_t span_ms = integer(progress, "elapsed_ms").value_or(0) - start_ms_;
  if (start_ms_ < 0 || span_ms <= 0) return std::nullopt;
  return (integer(progress, "pushed").value_or(0) - start_count_) * 1000 / span_ms;
}

std::optional<std::int64_t> PushRate::eta_s(const json::value& progress) const {
  const std::int64_t span_ms = integer(progress, "elapsed_ms").value_or(0) - start_ms_;
  const std::int64_t pushed = integer(progress, "pushed").value_or(0);
  const std::int64_t done = pushed - start_count_;
  const std::optional<std::int64_t> total = integer(progress, "total");
  if (start_ms_ < 0 || span_ms <= 0 || done <= 0 || !total || *total < pushed) return std::nullopt;
  // remaining / (done / span), in whole seconds rounded up.
  const std::int64_t left_ms = (*total - pushed) * span_ms / done;
  return (left_ms + 999) / 1000;
}

std::optional<std::string> ProgressPrinter::line(const json::value& progress) {
  const std::string phase = text(progress, "phase", "?");
  const std::int64_t elapsed = integer(progress, "elapsed_ms").value_or(0);
  const std::int64_t pushed = integer(progress, "pushed").value_or(0);
  const bool phase_changed = phase != phase_;
  rate_.observe(progress);
  if (!phase_changed && elapsed - last_printed_ms_ < interval_ms_) return std::nullopt;
  phase_ = phase;
  last_printed_ms_ = elapsed;

  std::string out = "run " + count_text(progress, "run_id") + ": " +
                    (phase == "mapping" ? mapping_text(progress) : phase);
  if (phase == "pushing") {
    out += " " + std::to_string(pushed) + "/" + count_text(progress, "total");
    if (const std::optional<std::int64_t> rate = rate_.per_second(progress))
      out += " (" + with_thousands(*rate) + "/s)";
  }
  const std::int64_t rejected = integer(progress, "rejected").value_or(0);
  if (rejected > 0) out += ", " + std::to_string(rejected) + " rejected";
  return out + "\n";
}

std::string ProgressBar::update(const json::value& progress) {
  const std::string phase = text(progress, "phase", "?");
  const std::int64_t elapsed = integer(progress, "elapsed_ms").value_or(0);
  rate_.observe(progress);
  std::string line = render(progress);
  if (drawn_ && phase == phase_ && elapsed - last_drawn_ms_ < interval_ms_) {
    pending_ = std::move(line);
    return {};
  }
  phase_ = phase;
  last_drawn_ms_ = elapsed;
  drawn_ = true;
  pending_.clear();
  return line;
}

std::string ProgressBar::finish() {
  if (!drawn_) return {};
  drawn_ = false;
  return std::exchange(pending_, {}) + "\n";
}

std::string ProgressBar::render(const json::value& progress) const {
  // Room kept for the rate and the ETA ("  12,345/s  ETA 59s"), so the bar
  // keeps its width while they change.
  constexpr std::size_t kTailRoom = 20;
  constexpr std::size_t kMinBar = 5;
  constexpr std::size_t kMaxBar = 40;
  // Never into the last column: a wrapped line cannot be redrawn with "\r".
  const std::size_t max_width = columns_ > 1 ? columns_ - 1 : 1;

  const std::string phase = text(progress, "phase", "?");
  std::string line = "run " + count_text(progress, "run_id") + ": " +
                     (phase == "mapping" ? mapping_text(progress) : phase);
  std::string rejected_text;
  if (const std::int64_t rejected = integer(progress, "rejected").value_or(0); rejected > 0)
    rejected_text = ", " + with_thousands(rejected) + " rejected";
  std::vector<std::string> extras;  // each shown only if it fits, in this order
  if (phase == "pushing") {
    const std::int64_t total = std::max<std::int64_t>(integer(progress, "total").value_or(0), 0);
    const std::int64_t pushed =
        std::clamp<std::int64_t>(integer(progress, "pushed").value_or(0), 0, total);
    const std::int64_t percent = total > 0 ? pushed * 100 / total : 100;
    const std::string total_text = with_thousands(total);
    // Counts padded to the total's width, so nothing after them shifts.
    const std::string counts = " " + padded_left(std::to_string(percent) + "%", 4) + "  " +
                               padded_left(with_thousands(pushed), total_text.size()) + "/" +
                               total_text;
    // Rejections matter more than the bar's length: room is kept for them.
    const std::size_t fixed =
        width(line) + 3 + width(counts) + kTailRoom + width(rejected_text);  // " [", "]"
    const std::size_t room = max_width > fixed ? max_width - fixed : 0;
    if (room >= kMinBar) {
      const std::size_t bar = std::min(room, kMaxBar);
      const std::size_t filled =
          total > 0 ? static_cast<std::size_t>(pushed * static_cast<std::int64_t>(bar) / total)
                    : bar;
      line += " [" + std::string(filled, '#') + std::string(bar - filled, '-') + "]";
    }
    line += counts;
    if (const std::optional<std::int64_t> rate = rate_.per_second(progress))
      extras.push_back("  " + with_thousands(*rate) + "/s");
    if (const std::optional<std::int64_t> eta = rate_.eta_s(progress); eta && pushed < total)
      extras.push_back("  ETA " + format_uptime(*eta));
  }
  if (!rejected_text.empty()) extras.push_back(rejected_text);
  for (const std::string& extra : extras)
    if (width(line) + width(extra) <= max_width) line += extra;
  if (width(line) > max_width) line = shortened(line, max_width);
  return "\r" + line + "\x1b[K";
}

}  // namespace pb::cli
