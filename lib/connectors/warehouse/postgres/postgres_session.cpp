#include "connectors/warehouse/postgres/postgres_session.hpp"

#include <libpq-fe.h>

#include <utility>

namespace pb::connectors {

void PgConnectionCloser::operator()(pg_conn* connection) const {
  PQfinish(connection);
}

PgConnection KeptConnection::take(std::string_view password) {
  PgConnection taken;
  {
    const std::lock_guard lock(mutex_);
    if (!idle_ || password != password_) {
      idle_.reset();
      return {};
    }
    taken = std::move(idle_);
  }
  // A session the server ended while idle (a restart, idle_session_timeout) shows only at the
  // next command; the reader tries that command once and connects again if it fails.
  if (PQstatus(taken.get()) != CONNECTION_OK || PQtransactionStatus(taken.get()) != PQTRANS_IDLE)
    return {};
  return taken;
}

void KeptConnection::keep(PgConnection connection, std::string password) {
  const std::lock_guard lock(mutex_);
  idle_ = std::move(connection);
  password_ = std::move(password);
}

}  // namespace pb::connectors
