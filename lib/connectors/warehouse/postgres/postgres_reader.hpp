// The blocking half of the `type: postgres` warehouse: a libpq connection (kept between reads
// when the caller keeps one), the
// configured query in a read-only transaction, rows streamed one at a time (single-row mode)
// into a Feed, so a million-row result never sits in one PGresult. Runs on the worker pool.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "config/config.hpp"
#include "connectors/warehouse/feed.hpp"
#include "connectors/warehouse/postgres/postgres_session.hpp"

namespace pb::connectors {

// "postgres host=db dbname=wms": Feed::origin and describe(). The configuration loader has made
// sure the conninfo holds no password.
std::string postgres_origin(const config::PostgresWarehouseConfig& config);

// libpq's message on one line (its lines joined by spaces, trailing newline gone), with every
// occurrence of `password` replaced by "***". libpq does not quote passwords; this makes sure.
std::string clean_libpq_message(std::string_view message, std::string_view password);

// Reads the password file (if any), connects, runs the query and builds the Feed. Throws
// WarehouseError naming postgres_origin() when the password file, the connection, the
// transaction or the query fails, or the result lacks a configured column.
// With config.cursor_column, the query gets `cursor` as $1 (SQL NULL when there is none: a
// whole read); with a cursor the Feed is a delta. Feed::cursor is the greatest value of the
// cursor column, or `cursor` again when no row has one.
// With `kept`, the read starts on its connection when that still answers and leaves its own
// connection there after a read that went well; without, it closes its connection.
// With `sieve`, a whole read (no cursor) without a location column drops the rows it knows
// (FeedSieve); an incremental one never does: its rows are the changes.
Feed read_postgres_warehouse(const config::PostgresWarehouseConfig& config,
                             const std::optional<std::string>& cursor = std::nullopt,
                             KeptConnection* kept = nullptr, FeedSieve* sieve = nullptr);

// Orders cursor values: numerically when both are integers, else as text (PostgreSQL prints
// timestamps in UTC, as beed's session asks, in a form whose text order is time order).
bool cursor_less(std::string_view a, std::string_view b);

}  // namespace pb::connectors
