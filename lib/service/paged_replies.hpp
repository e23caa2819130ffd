// The replies that can be large: `inventory` and `diff`, in pages (one page a
// reply, or with "stream": true every page as an event before the last one in
// the reply), and the bound on the heavy reads beed runs at once. See "Large
// replies" in docs/CONTROL-PROTOCOL.md.
#pragma once

#include <chrono>
#include <cstddef>

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>

#include "async/semaphore.hpp"
#include "control/message.hpp"
#include "control/server.hpp"

namespace pb::sync {
class ConnectionRunner;
}

namespace pb::service {

class Service;

// Catalogue walks on the pool at once (each holds a slot for one step, a bounded number of
// keys), and diffs at once (each holds a slot from its warehouse read to its reply: the feed
// is in memory all that time).
inline constexpr std::size_t kScanSlots = 2;
inline constexpr std::size_t kDiffSlots = 2;
// How long a read waits for a slot before it is refused; under beectl's 30 s per frame.
inline constexpr std::chrono::milliseconds kSlotPatience{20'000};

struct ReadLimits {
  async::Semaphore& scans;
  async::Semaphore& diffs;
  std::chrono::milliseconds patience = kSlotPatience;
};

// `args` have been checked against the command table; the connection exists.
boost::asio::awaitable<control::Reply> inventory_reply(Service& service, ReadLimits limits,
                                                       const boost::json::object& args,
                                                       control::EventSink& events);
boost::asio::awaitable<control::Reply> diff_reply(Service& service, ReadLimits limits,
                                                  sync::ConnectionRunner& runner,
                                                  const boost::json::object& args,
                                                  control::EventSink& events);

}  // namespace pb::service
