#include "connectors/warehouse/postgres/postgres_reader.hpp"

#include <libpq-fe.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "connectors/secret_file.hpp"
#include "connectors/warehouse/feed_assembly.hpp"
#include "connectors/warehouse/postgres/postgres_rows.hpp"

namespace pb::connectors {
namespace {

// Type OIDs from PostgreSQL's pg_type.dat; they are fixed for built-in types. A domain's
// column is described by its base type, so domains over these work too.
constexpr Oid kInt8 = 20, kInt2 = 21, kInt4 = 23, kText = 25, kOid = 26, kFloat4 = 700,
              kFloat8 = 701, kUnknown = 705, kBpchar = 1042, kVarchar = 1043, kNumeric = 1700;

struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using Result = std::unique_ptr<PGresult, ResultDeleter>;

std::optional<QuantityText> quantity_text(Oid type) {
  switch (type) {
    case kInt2:
    case kInt4:
    case kInt8:
    case kOid:
    case kText:
    case kVarchar:
    case kBpchar:
    case kUnknown:
      return QuantityText::integer;
    case kNumeric:
    case kFloat4:
    case kFloat8:
      return QuantityText::decimal;
    default:
      return std::nullopt;
  }
}

class Reader {
 public:
  Reader(const config::PostgresWarehouseConfig& config, std::string password,
         std::optional<std::string> cursor, KeptConnection* kept, FeedSieve* sieve)
      : config_(config),
        origin_(postgres_origin(config)),
        password_(std::move(password)),
        cursor_(std::move(cursor)),
        kept_(kept),
        sieve_(cursor_ ? nullptr : sieve) {}

  Feed run() {
    begin();
    // SET LOCAL: the limit ends with the transaction (a pooler may reuse the session).
    execute("SET LOCAL statement_timeout = " +
            std::to_string(std::chrono::milliseconds(config_.statement_timeout).count()));
    // Timestamps print in UTC, so cursor values from different sessions compare as text.
    execute("SET LOCAL TimeZone = 'UTC'");
    Feed feed = stream_query();
    if (!config_.cursor_column.empty()) {
      feed.delta = cursor_.has_value();
      feed.cursor = newest_.value_or(cursor_.value_or(""));
    }
    // Kept only once its transaction is over; on any error before, it closes with the Reader.
    // A COMMIT that fails costs the connection, not the feed already read.
    if (kept_) {
      const Result done(PQexec(connection_.get(), "COMMIT"));
      if (PQresultStatus(done.get()) == PGRES_COMMAND_OK)
        kept_->keep(std::move(connection_), password_);
    }
    return feed;
  }

 private:
  [[noreturn]] void fail(const std::string& doing, const char* message) const {
    std::string text = clean_libpq_message(message != nullptr ? message : "", password_);
    if (text.empty()) text = "no message from libpq";
    throw WarehouseError(origin_ + ": " + doing + text);
  }

  // One snapshot of the data, and no way for a mistaken query to write to the WMS. On the kept
  // connection when it still answers; else on a new one.
  void begin() {
    static constexpr const char* kBegin = "BEGIN READ ONLY";
    if (kept_) connection_ = kept_->take(password_);
    if (connection_) {
      const Result result(PQexec(connection_.get(), kBegin));
      if (PQresultStatus(result.get()) == PGRES_COMMAND_OK) return;
      connection_.reset();
    }
    connect();
    execute(kBegin);
  }

  void connect() {
    const std::string timeout = std::to_string(config_.connect_timeout.count());
    // libpq processes the keywords in order, a later one overriding an earlier one, and
    // expands the conninfo in place of `dbname`: what comes before it is a default the
    // conninfo may change; what comes after it is ours to decide.
    std::vector<std::pair<const char*, const char*>> params{
        {"fallback_application_name", "beed"},
        // A server that vanishes mid-query would otherwise hold a pool thread until the
        // kernel gives up on the socket (hours); statement_timeout cannot help then.
        {"keepalives", "1"},
        {"keepalives_idle", "60"},
        {"keepalives_interval", "10"},
        {"keepalives_count", "6"},
        {"dbname", config_.conninfo.c_str()},
        {"connect_timeout", timeout.c_str()},
        // SKUs are compared and stored as UTF-8 bytes.
        {"client_encoding", "UTF8"},
    };
    if (!password_.empty()) params.emplace_back("password", password_.c_str());
    std::vector<const char*> keywords;
    std::vector<const char*> values;
    for (const auto& [keyword, value] : params) {
      keywords.push_back(keyword);
      values.push_back(value);
    }
    keywords.push_back(nullptr);
    values.push_back(nullptr);
    connection_.reset(PQconnectdbParams(keywords.data(), values.data(), /*expand_dbname=*/1));
    if (!connection_) throw WarehouseError(origin_ + ": out of memory connecting");
    if (PQstatus(connection_.get()) != CONNECTION_OK) fail("", PQerrorMessage(connection_.get()));
  }

  void execute(const std::string& command) {
    const Result result(PQexec(connection_.get(), command.c_str()));
    if (PQresultStatus(result.get()) != PGRES_COMMAND_OK)
      fail(command + " failed: ",
           result ? PQresultErrorMessage(result.get()) : PQerrorMessage(connection_.get()));
  }

  Feed stream_query() {
    // The extended protocol (even without parameters) takes exactly one statement: a query
    // with a second one fails instead of running both.
    // $1 is the cursor, typed by the query (e.g. $1::timestamptz); NULL reads everything.
    const bool takes_cursor = !config_.cursor_column.empty();
    const char* cursor_value = cursor_ ? cursor_->c_str() : nullptr;
    if (PQsendQueryParams(connection_.get(), config_.query.c_str(), takes_cursor ? 1 : 0, nullptr,
                          takes_cursor ? &cursor_value : nullptr, nullptr, nullptr,
                          /*resultFormat: text=*/0) != 1)
      fail("query failed: ", PQerrorMessage(connection_.get()));
    if (PQsetSingleRowMode(connection_.get()) != 1)
      throw WarehouseError(origin_ + ": cannot stream the result (single-row mode refused)");

    std::optional<PostgresFeedBuilder> builder;
    std::uint64_t row = 0;
    for (;;) {
      const Result result(PQgetResult(connection_.get()));
      if (!result) break;
      const PGresult* r = result.get();
      switch (PQresultStatus(r)) {
        case PGRES_SINGLE_TUPLE:
          if (!builder) builder.emplace(start(r));
          ++row;
          builder->add(row, value(r, sku_column_), value(r, quantity_column_),
                       location_column_ ? value(r, *location_column_) : std::nullopt);
          if (cursor_column_)
            if (const auto at = value(r, *cursor_column_);
                at && (!newest_ || cursor_less(*newest_, *at)))
              newest_ = std::string(*at);
          break;
        case PGRES_TUPLES_OK:  // the end of the rows; with none, the only result
          if (!builder) builder.emplace(start(r));
          break;
        case PGRES_COMMAND_OK:
          throw WarehouseError(origin_ +
                               ": the query returned no result set; it must be a SELECT (or "
                               "TABLE, VALUES, WITH ... SELECT) giving the columns " +
                               quote_for_message(config_.sku_column) + " and " +
                               quote_for_message(config_.quantity_column));
        default:
          // Rows already streamed are dropped with the builder: half a snapshot would make
          // the SKUs past the error look deleted.
          fail("query failed: ", PQresultErrorMessage(r));
      }
    }
    if (!builder) fail("query failed: ", PQerrorMessage(connection_.get()));
    return builder->finish();
  }

  // The first result of the query: finds the columns and how the quantity is written.
  PostgresFeedBuilder start(const PGresult* r) {
    sku_column_ = column(r, config_.sku_column);
    quantity_column_ = column(r, config_.quantity_column);
    const Oid type = PQftype(r, quantity_column_);
    const auto text = quantity_text(type);
    if (!text)
      throw WarehouseError(origin_ + ": column " + quote_for_message(config_.quantity_column) +
                           " has a type (OID " + std::to_string(type) +
                           ") that is not an integer, numeric or text type; cast it in the "
                           "query, e.g. " +
                           config_.quantity_column + "::bigint");
    if (!config_.cursor_column.empty()) cursor_column_ = column(r, config_.cursor_column);
    if (config_.location_column.empty())
      return PostgresFeedBuilder(origin_, config_.duplicates, *text, std::nullopt, sieve_);
    location_column_ = column(r, config_.location_column);
    return PostgresFeedBuilder(origin_, config_.duplicates, *text,
                               LocationTotals(config_.locations));
  }

  // Exact names, as the result reports them (an unquoted alias is lower-case there). Not
  // PQfnumber, which would lower-case the configured name too.
  int column(const PGresult* r, const std::string& name) const {
    const int count = PQnfields(r);
    std::optional<int> found;
    for (int i = 0; i < count; ++i) {
      if (name != PQfname(r, i)) continue;
      if (found)
        throw WarehouseError(origin_ + ": the query returns two columns named " +
                             quote_for_message(name));
      found = i;
    }
    if (found) return *found;
    std::string columns;
    for (int i = 0; i < count && i < 20; ++i)
      columns += (i > 0 ? ", " : "") + quote_for_message(PQfname(r, i));
    if (count > 20) columns += ", ...";
    throw WarehouseError(origin_ + ": the query returns no column " + quote_for_message(name) +
                         " (columns: " + columns + ")");
  }

  static std::optional<std::string_view> value(const PGresult* r, int column) {
    if (PQgetisnull(r, 0, column)) return std::nullopt;
    return std::string_view(PQgetvalue(r, 0, column),
                            static_cast<std::size_t>(PQgetlength(r, 0, column)));
  }

  const config::PostgresWarehouseConfig& config_;
  const std::string origin_;
  const std::string password_;
  PgConnection connection_;
  int sku_column_ = 0;
  int quantity_column_ = 0;
  std::optional<int> location_column_;  // with config_.location_column
  const std::optional<std::string> cursor_;
  std::optional<int> cursor_column_;   // with config_.cursor_column
  std::optional<std::string> newest_;  // the greatest cursor value seen
  KeptConnection* const kept_;         // none: the connection closes after the read
  FeedSieve* const sieve_;             // a whole read's (null with a cursor)
};

bool is_integer(std::string_view s) {
  if (!s.empty() && (s.front() == '-' || s.front() == '+')) s.remove_prefix(1);
  return !s.empty() && s.size() <= 18 &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

std::string postgres_origin(const config::PostgresWarehouseConfig& config) {
  return "postgres " + config.conninfo;
}

std::string clean_libpq_message(std::string_view message, std::string_view password) {
  std::string out;
  std::size_t start = 0;
  while (start < message.size()) {
    auto end = message.find('\n', start);
    if (end == std::string_view::npos) end = message.size();
    std::string_view line = message.substr(start, end - start);
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    while (!line.empty() && (line.back() == ' ' || line.back() == '\t' || line.back() == '\r'))
      line.remove_suffix(1);
    if (!line.empty()) {
      if (!out.empty()) out += ' ';
      out += line;
    }
    start = end + 1;
  }
  if (!password.empty()) {
    for (auto at = out.find(password); at != std::string::npos; at = out.find(password, at + 3))
      out.replace(at, password.size(), "***");
  }
  return out;
}

bool cursor_less(std::string_view a, std::string_view b) {
  if (is_integer(a) && is_integer(b))
    return std::stoll(std::string(a)) < std::stoll(std::string(b));
  return a < b;
}

Feed read_postgres_warehouse(const config::PostgresWarehouseConfig& config,
                             const std::optional<std::string>& cursor, KeptConnection* kept,
                             FeedSieve* sieve) {
  std::string password;
  if (!config.password_file.empty()) {
    try {
      password = read_secret_file(config.password_file, "password_file");
    } catch (const std::runtime_error& e) {
      throw WarehouseError(postgres_origin(config) + ": " + e.what());
    }
  }
  Reader reader(config, std::move(password), cursor, kept, sieve);
  return reader.run();
}

}  // namespace pb::connectors
