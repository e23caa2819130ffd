// How beectl shows a run's progress events while it waits (--wait): plain
// lines for a pipe or a file, one line redrawn in place on a terminal.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include <boost/json/value.hpp>

namespace pb::cli {

// "mapping 2,500/100,000" (or "mapping 2,500" when the store did not say how
// many there are): a run in phase mapping, the store walking its catalogue.
std::string mapping_text(const boost::json::value& progress);

// The push rate of a run, measured from its first "pushing" event so that
// reading and change detection do not dilute it. Feed it every event.
class PushRate {
 public:
  void observe(const boost::json::value& progress);
  // SKUs per second so far; nullopt until some run time has passed.
  std::optional<std::int64_t> per_second(const boost::json::value& progress) const;
  // Seconds left at that rate, rounded up; nullopt if it cannot be estimated.
  std::optional<std::int64_t> eta_s(const boost::json::value& progress) const;

 private:
  std::int64_t start_ms_ = -1;
  std::int64_t start_count_ = 0;
};

// Turns progress events into lines, printing each phase change and otherwise
// at most one line per `interval` of run time, so a long run stays readable in
// the journal. For a stdout that is not a terminal.
class ProgressPrinter {
 public:
  explicit ProgressPrinter(std::int64_t interval_ms = 1000) : interval_ms_(interval_ms) {}
  // The line to print for this event's data, or nullopt if throttled.
  std::optional<std::string> line(const boost::json::value& progress);

 private:
  std::int64_t interval_ms_;
  std::string phase_;
  std::int64_t last_printed_ms_ = 0;
  PushRate rate_;
};

// Progress on a terminal: one line redrawn in place ("\r", the line, then
// clear to end of line) with the phase, a bar, SKUs pushed/total, the rate and
// an ETA. Redraws on each phase change and otherwise at most once per
// `interval` of run time (beed stamps each event with the run's elapsed time,
// so the output is a pure function of the events). The line never reaches the
// terminal's last column, so it cannot wrap and break the redraw.
class ProgressBar {
 public:
  explicit ProgressBar(std::size_t columns = 80, std::int64_t interval_ms = 100)
      : columns_(columns), interval_ms_(interval_ms) {}
  // What to write for this event; empty if throttled.
  std::string update(const boost::json::value& progress);
  // What to write before anything else is printed: the latest state if its
  // redraw was throttled, then a newline. Empty if nothing was drawn.
  std::string finish();

 private:
  std::string render(const boost::json::value& progress) const;

  std::size_t columns_;
  std::int64_t interval_ms_;
  std::string phase_;
  std::int64_t last_drawn_ms_ = 0;
  bool drawn_ = false;
  std::string pending_;  // the latest line, when its redraw was throttled
  PushRate rate_;
};

}  // namespace pb::cli
