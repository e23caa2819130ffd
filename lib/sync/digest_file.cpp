// Digests kept over a clean restart; see digest_file.hpp.
#include "sync/digest_file.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <fstream>
#include <stdexcept>
#include <system_error>
#include <type_traits>
#include <vector>

#include "connectors/warehouse/feed.hpp"
#include "log/log.hpp"

namespace pb::sync {
namespace {

// "PBDGST" and the format's version; read back as the same number only on a machine of the
// same byte order (the file never leaves the machine that wrote it).
constexpr std::uint64_t kMagic = 0x0001'5453'4744'4250ULL;
constexpr std::string_view kSuffix = ".digest";

std::uint64_t mix(std::uint64_t sum, std::string_view bytes) {
  const std::uint64_t h = connectors::line_hash(bytes);
  return sum ^ (h + 0x9e37'79b9'7f4a'7c15ULL + (sum << 6) + (sum >> 2));
}

class Writer {
 public:
  explicit Writer(const std::filesystem::path& file)
      : out_(file, std::ios::binary | std::ios::trunc) {}
  void bytes(const void* data, std::size_t n) {
    const std::string_view view(static_cast<const char*>(data), n);
    out_.write(view.data(), static_cast<std::streamsize>(n));
    sum_ = mix(sum_, view);
  }
  template <class T>
  void value(T v) {
    static_assert(std::is_trivially_copyable_v<T>);
    bytes(&v, sizeof v);
  }
  template <class C>
  void sequence(const C& c) {
    value<std::uint64_t>(c.size());
    bytes(c.data(), c.size() * sizeof(typename C::value_type));
  }
  bool finish() {
    const std::uint64_t sum = sum_;
    out_.write(reinterpret_cast<const char*>(&sum), sizeof sum);
    out_.flush();
    return out_.good();
  }

 private:
  std::ofstream out_;
  std::uint64_t sum_ = kMagic;
};

// Reads what Writer wrote; every read checks it stays within the file, so that a damaged
// count never makes a huge allocation.
class Reader {
 public:
  explicit Reader(const std::filesystem::path& file) : in_(file, std::ios::binary) {
    std::error_code ec;
    const auto size = std::filesystem::file_size(file, ec);
    left_ = ec ? 0 : size;
  }
  bool bytes(void* data, std::size_t n) {
    if (n > left_ || !in_.read(static_cast<char*>(data), static_cast<std::streamsize>(n)))
      return false;
    left_ -= n;
    sum_ = mix(sum_, std::string_view(static_cast<const char*>(data), n));
    return true;
  }
  template <class T>
  bool value(T& v) {
    static_assert(std::is_trivially_copyable_v<T>);
    return bytes(&v, sizeof v);
  }
  template <class C>
  bool sequence(C& c) {
    std::uint64_t n = 0;
    if (!value(n) || n > left_ / sizeof(typename C::value_type)) return false;
    c.resize(n);
    return bytes(c.data(), n * sizeof(typename C::value_type));
  }
  // The checksum, which must end the file.
  bool finish() {
    const std::uint64_t expected = sum_;
    std::uint64_t sum = 0;
    return left_ == sizeof sum && in_.read(reinterpret_cast<char*>(&sum), sizeof sum) &&
           sum == expected;
  }

 private:
  std::ifstream in_;
  std::uint64_t left_ = 0;
  std::uint64_t sum_ = kMagic;
};

// What the digest's users rely on (sorted unique SKUs, sizes that agree, lines that name each
// entry once), so that a file that passed its checksum by chance still cannot make them read
// out of bounds.
bool sound(const FeedDigest& d) {
  const std::size_t n = d.ends.size();
  if (d.quantities.size() != n || (n == 0 ? !d.skus.empty() : d.ends.back() != d.skus.size()))
    return false;
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint32_t begin = i == 0 ? 0 : d.ends[i - 1];
    if (d.ends[i] <= begin || (i > 0 && !(d.sku(i - 1) < d.sku(i)))) return false;
  }
  if (!d.lines) return true;
  const LineMemo& m = *d.lines;
  if (m.hashes.size() != n || m.entries.size() != m.lines.size()) return false;
  if (!m.entries.empty()) {
    if (m.entries.size() != n) return false;
    for (std::size_t i = 0; i < n; ++i)
      if (m.entries[i] >= n || m.lines[m.entries[i]] != i) return false;
  }
  return true;
}

// Null when the file is not whole, not this state's or not `connection`'s; `why` says which.
KeptDigest read_digest(const std::filesystem::path& file, const std::string& connection,
                       const StateStamp& stamp, std::string& why) {
  Reader in(file);
  std::uint64_t magic = 0;
  StateStamp written;
  std::string name;
  auto d = std::make_shared<FeedDigest>();
  UnixMillis last_stale_check = 0;
  std::uint8_t missing = 0, sieve = 0, has_lines = 0;
  LineMemo lines;
  if (!in.value(magic) || magic != kMagic) {
    why = "not a digest file of this version";
    return {};
  }
  const bool read = in.value(written.txnid) && in.value(written.device) &&
                    in.value(written.inode) && in.value(written.size) &&
                    in.value(written.mtime_ns) && in.sequence(name) && in.value(last_stale_check) &&
                    in.value(d->rules.buffer) && in.value(d->rules.buffer_percent) &&
                    in.value(d->rules.minimum_distributable) && in.value(missing) &&
                    in.value(d->rules.repush_after) && in.value(d->listed) &&
                    in.value(d->in_stock) && in.value(sieve) && in.sequence(d->skus) &&
                    in.sequence(d->ends) && in.sequence(d->quantities) && in.value(has_lines) &&
                    in.value(lines.layout) && in.sequence(lines.hashes) &&
                    in.sequence(lines.entries) && in.sequence(lines.lines) && in.finish();
  if (!read) {
    why = "the file is cut short or damaged";
    return {};
  }
  if (name != connection) {
    why = "it was written for another connection";
    return {};
  }
  if (!(written == stamp)) {
    why = "the state changed after it was written";
    return {};
  }
  d->rules.missing_skus = missing == 0 ? MissingSkus::keep : MissingSkus::zero;
  d->sieve = sieve != 0;
  if (has_lines != 0) d->lines = std::make_shared<const LineMemo>(std::move(lines));
  if (!sound(*d)) {
    why = "its content does not hold together";
    return {};
  }
  return {std::move(d), last_stale_check};
}

}  // namespace

StateStamp state_stamp(const std::filesystem::path& state_dir, std::uint64_t txnid) {
  struct stat st {};
  const auto file = state_dir / "data.mdb";
  if (::stat(file.c_str(), &st) != 0)
    throw std::system_error(errno, std::generic_category(), "stat " + file.string());
  return StateStamp{
      txnid, static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino),
      static_cast<std::uint64_t>(st.st_size),
      static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec};
}

std::filesystem::path digest_dir(const std::filesystem::path& state_dir) {
  return state_dir / "digests";
}

void save_digest(const std::filesystem::path& dir, std::string_view connection,
                 const StateStamp& stamp, const KeptDigest& kept) {
  const FeedDigest& digest = *kept.digest;
  std::filesystem::create_directories(dir);
  const auto file = dir / (std::string(connection) + std::string(kSuffix));
  auto aside = file;
  aside += ".new";
  Writer out(aside);
  out.value(kMagic);
  out.value(stamp.txnid);
  out.value(stamp.device);
  out.value(stamp.inode);
  out.value(stamp.size);
  out.value(stamp.mtime_ns);
  out.sequence(std::string_view(connection));
  out.value(kept.last_stale_check);
  out.value(digest.rules.buffer);
  out.value(digest.rules.buffer_percent);
  out.value(digest.rules.minimum_distributable);
  out.value<std::uint8_t>(digest.rules.missing_skus == MissingSkus::keep ? 0 : 1);
  out.value(digest.rules.repush_after);
  out.value(digest.listed);
  out.value(digest.in_stock);
  out.value<std::uint8_t>(digest.sieve ? 1 : 0);
  out.sequence(digest.skus);
  out.sequence(digest.ends);
  out.sequence(digest.quantities);
  const LineMemo none;
  const LineMemo& lines = digest.lines ? *digest.lines : none;
  out.value<std::uint8_t>(digest.lines ? 1 : 0);
  out.value(lines.layout);
  out.sequence(lines.hashes);
  out.sequence(lines.entries);
  out.sequence(lines.lines);
  if (!out.finish()) {
    std::error_code ignored;
    std::filesystem::remove(aside, ignored);
    throw std::runtime_error("cannot write " + aside.string());
  }
  std::filesystem::rename(aside, file);
}

std::map<std::string, KeptDigest> take_digests(const std::filesystem::path& dir,
                                               const StateStamp& stamp) {
  std::map<std::string, KeptDigest> out;
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) return out;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const auto& file = entry.path();
    const auto name = file.filename().string();
    if (name.size() <= kSuffix.size() || !name.ends_with(kSuffix)) continue;
    const auto connection = name.substr(0, name.size() - kSuffix.size());
    std::string why;
    if (auto kept = read_digest(file, connection, stamp, why); kept.digest) {
      log::info({.connection = connection},
                "the last feed's digest ({} SKUs) is kept over the restart: the next Smart Sync "
                "compares with it",
                kept.digest->size());
      out.emplace(connection, std::move(kept));
    } else {
      log::info({.connection = connection},
                "the last feed's digest from before the restart is not used ({}): the next run "
                "merges the whole feed",
                why);
    }
  }
  std::filesystem::remove_all(dir, ec);
  if (ec) log::warn("cannot remove {}: {}", dir.string(), ec.message());
  return out;
}

}  // namespace pb::sync
