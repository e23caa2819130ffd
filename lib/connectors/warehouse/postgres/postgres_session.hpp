// The libpq connection a `type: postgres` warehouse keeps between its reads, so that a Smart
// Sync of a few changed rows does not pay for a new connection (TCP, startup, authentication)
// every time. Closed with the warehouse: a reload that replaces it, or beed stopping.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <string_view>

struct pg_conn;  // libpq's PGconn, kept out of the headers that include this one

namespace pb::connectors {

struct PgConnectionCloser {
  void operator()(pg_conn* connection) const;
};
using PgConnection = std::unique_ptr<pg_conn, PgConnectionCloser>;

// One idle connection at most. A read takes it (a read at the same time, such as a dry run's,
// opens its own) and gives it back only after its transaction ended well; anything that went
// wrong closes it instead. Thread-safe: reads run on the worker pool.
class KeptConnection {
 public:
  // The idle connection, when there is one that libpq still calls good and that was opened
  // with `password` (the password file is read at each run: a new password means a new
  // connection); otherwise none, and any stale one is closed.
  PgConnection take(std::string_view password);

  // Keeps `connection`, opened with `password`, for the next read (closes any other).
  void keep(PgConnection connection, std::string password);

 private:
  std::mutex mutex_;
  PgConnection idle_;
  std::string password_;
};

}  // namespace pb::connectors
