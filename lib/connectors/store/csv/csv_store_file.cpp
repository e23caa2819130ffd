#include "connectors/store/csv/csv_store_file.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "connectors/csv_record_reader.hpp"
#include "connectors/store/csv/file_copy.hpp"

namespace pb::connectors {
namespace fs = std::filesystem;

namespace {

[[noreturn]] void throw_errno(const fs::path& path, const char* what, int error) {
  throw StoreError(path.string() + ": " + what + ": " + std::strerror(error));
}

// A new store file and the directories made for it are for beed's user and
// group only, whatever the umask (sys/file_modes.hpp; pb_connectors does not
// link pb_sys). An existing file keeps its mode.
constexpr mode_t kNewFileMode = 0640;
constexpr fs::perms kNewDirectoryMode = fs::perms(0750);

void create_store_directories(const fs::path& dir) {
  std::vector<fs::path> missing;
  std::error_code probe;  // a directory we cannot even look at is create_directories()' to report
  for (fs::path p = dir;
       !p.empty() && !fs::exists(fs::symlink_status(p, probe)) && p != p.parent_path();
       p = p.parent_path())
    missing.push_back(p);
  std::error_code ec;
  if (fs::create_directories(dir, ec))
    for (const auto& p : missing)
      fs::permissions(p, kNewDirectoryMode, fs::perm_options::replace, ec);
  if (ec) throw StoreError(dir.string() + ": cannot create directory: " + ec.message());
}

// Our reader trims unquoted cells and splits on delimiters, quotes and line breaks: any SKU
// that would not read back the same is quoted.
bool needs_quotes(std::string_view sku) {
  if (sku.empty()) return true;
  if (sku.find_first_of(",\"\r\n") != std::string_view::npos) return true;
  const auto is_space = [](char c) { return c == ' ' || c == '\t'; };
  return is_space(sku.front()) || is_space(sku.back());
}

// Removes temp files of `target` left by a writer that died mid-write (their
// name carries its pid, and no process has that pid now, or it is ours from an
// earlier life). Best effort: a file we cannot remove is left alone.
void remove_stale_temp_files(const fs::path& target) {
  const std::string prefix = "." + target.filename().string() + ".";
  std::error_code ec;
  const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.size() <= prefix.size() + 4 || name.compare(0, prefix.size(), prefix) != 0 ||
        name.compare(name.size() - 4, 4, ".tmp") != 0)
      continue;
    const auto dash = name.find('-', prefix.size());
    if (dash == std::string::npos) continue;
    pid_t pid = 0;
    const char* first = name.data() + prefix.size();
    const char* last = name.data() + dash;
    if (std::from_chars(first, last, pid).ptr != last || pid <= 0) continue;
    if (pid == ::getpid() || (::kill(pid, 0) != 0 && errno == ESRCH)) fs::remove(entry.path(), ec);
  }
}

// A new file in the target's directory (rename(2) is atomic only within one file system),
// hidden so that a directory scan for `*.csv` never picks up a half-written file. Removed
// unless committed.
class TempFile {
 public:
  explicit TempFile(const fs::path& target) : target_(target) {
    static std::atomic<unsigned> counter{0};
    const fs::path dir = target.parent_path();
    for (;;) {
      path_ = dir / ("." + target.filename().string() + "." + std::to_string(::getpid()) + "-" +
                     std::to_string(counter.fetch_add(1)) + ".tmp");
      // An existing file's mode is copied at commit, a new one gets kNewFileMode.
      fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, kNewFileMode);
      if (fd_ >= 0) break;
      if (errno != EEXIST) throw_errno(path_, "cannot create", errno);
    }
    buffer_.reserve(buffer_size);
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  ~TempFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!committed_) ::unlink(path_.c_str());
  }

  void write(std::string_view data) {
    if (data.size() >= buffer_size) {
      // A long run of unchanged rows (patch_known_file): straight to the file, no copy.
      flush();
      write_all(data);
      return;
    }
    buffer_.append(data);
    if (buffer_.size() >= buffer_size) flush();
  }

  // Whether a row needed quotes, so that one row may span lines.
  bool quoted() const { return quoted_; }

  void write_row(std::string_view sku, Quantity quantity) {
    if (sku.empty()) throw std::invalid_argument("store CSV: empty SKU");
    if (needs_quotes(sku)) {
      quoted_ = true;
      buffer_ += '"';
      for (char c : sku) {
        if (c == '"') buffer_ += '"';
        buffer_ += c;
      }
      buffer_ += '"';
    } else {
      buffer_.append(sku);
    }
    char digits[24];
    const auto [end, ec] = std::to_chars(std::begin(digits), std::end(digits), quantity);
    buffer_ += ',';
    buffer_.append(digits, end);
    buffer_ += '\n';
    if (buffer_.size() >= buffer_size) flush();
  }

  void commit(std::optional<mode_t> mode) {
    flush();
    if (::fchmod(fd_, mode.value_or(kNewFileMode)) != 0)
      throw_errno(path_, "cannot set permissions", errno);
    if (::fsync(fd_) != 0) throw_errno(path_, "fsync", errno);
    const int fd = std::exchange(fd_, -1);
    if (::close(fd) != 0) throw_errno(path_, "close", errno);
    if (::rename(path_.c_str(), target_.c_str()) != 0)
      throw_errno(target_, ("cannot rename " + path_.filename().string() + " over it").c_str(),
                  errno);
    committed_ = true;
    // Without this the rename itself may not survive a power cut.
    const fs::path dir = target_.has_parent_path() ? target_.parent_path() : fs::path(".");
    const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd < 0) throw_errno(dir, "cannot open directory", errno);
    const int rc = ::fsync(dir_fd);
    const int error = errno;
    ::close(dir_fd);
    if (rc != 0) throw_errno(dir, "fsync", error);
  }

 private:
  static constexpr std::size_t buffer_size = 64 * 1024;

  void flush() {
    write_all(buffer_);
    buffer_.clear();
  }

  void write_all(std::string_view data) {
    const char* p = data.data();
    std::size_t left = data.size();
    while (left > 0) {
      const ssize_t n = ::write(fd_, p, left);
      if (n < 0) {
        if (errno == EINTR) continue;
        throw_errno(path_, "write", errno);
      }
      p += n;
      left -= static_cast<std::size_t>(n);
    }
  }

  fs::path target_;
  fs::path path_;
  int fd_ = -1;
  bool committed_ = false;
  bool quoted_ = false;
  std::string buffer_;
};

// Reads the rows of an existing store file in file order, checking each.
class StoreFileReader {
 public:
  StoreFileReader(std::istream& in, const fs::path& path) : path_(path), reader_(in, {}) {
    if (!reader_.next(record_)) {
      check_io();
      return;  // an empty file: no header, no rows
    }
    if (record_.error != CsvRecordError::none || record_.cell_count != 2 ||
        record_.cells[0] != "sku" || record_.cells[1] != "quantity")
      fail(record_.line, "the header must be 'sku,quantity'");
  }

  // The next row, or false at the end.
  bool next(PushItem& item, std::uint64_t& line) {
    do {
      if (!reader_.next(record_)) {
        check_io();
        return false;
      }
    } while (record_.blank);
    line = record_.line;
    if (record_.error != CsvRecordError::none) fail(line, "not valid CSV (bad quoting)");
    if (record_.cell_count != 2)
      fail(line, "expected 2 cells, found " + std::to_string(record_.cell_count));
    if (record_.cells[0].empty()) fail(line, "no SKU");
    const std::string& text = record_.cells[1];
    const char* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, item.quantity);
    if (ec != std::errc() || ptr != end || text.empty())
      fail(line, "quantity '" + text.substr(0, 64) + "' is not an integer");
    item.sku = record_.cells[0];
    return true;
  }

 private:
  [[noreturn]] void fail(std::uint64_t line, const std::string& message) const {
    throw StoreError(path_.string() + ":" + std::to_string(line) + ": " + message);
  }
  void check_io() const {
    if (reader_.read_failed()) throw StoreError(path_.string() + ": read error");
  }

  fs::path path_;
  CsvRecordReader reader_;
  CsvRecord record_;
};

// std::nullopt when there is no file to merge with.
std::optional<std::ifstream> open_existing(const fs::path& path) {
  errno = 0;
  std::ifstream in(path, std::ios::binary);
  if (in) return in;
  const int error = errno;
  if (error == ENOENT) return std::nullopt;
  if (error != 0) throw_errno(path, "cannot open", error);
  throw StoreError(path.string() + ": cannot open");
}

bool strictly_sorted(std::span<const PushItem> items) {
  return std::adjacent_find(items.begin(), items.end(), [](const auto& a, const auto& b) {
           return a.sku >= b.sku;
         }) == items.end();
}

// Sorts by SKU, keeping the last item of each SKU.
void sort_unique_last_wins(std::vector<PushItem>& items) {
  std::stable_sort(items.begin(), items.end(),
                   [](const auto& a, const auto& b) { return a.sku < b.sku; });
  std::vector<PushItem> out;
  out.reserve(items.size());
  for (auto& item : items) {
    if (!out.empty() && out.back().sku == item.sku)
      out.back() = std::move(item);
    else
      out.push_back(std::move(item));
  }
  items = std::move(out);
}

// Writes the batch merged into the existing rows as they stream by. Returns false, having
// written an incomplete file, as soon as the existing rows turn out not to be sorted and unique.
bool merge_streaming(std::istream& in, const fs::path& path, std::span<const PushItem> batch,
                     TempFile& out) {
  StoreFileReader reader(in, path);
  auto next = batch.begin();
  PushItem row;
  std::string previous;
  bool first = true;
  std::uint64_t line = 0;
  while (reader.next(row, line)) {
    if (!first && row.sku <= previous) return false;
    first = false;
    while (next != batch.end() && next->sku < row.sku) {
      out.write_row(next->sku, next->quantity);
      ++next;
    }
    if (next != batch.end() && next->sku == row.sku) {
      out.write_row(next->sku, next->quantity);
      ++next;
    } else {
      out.write_row(row.sku, row.quantity);
    }
    previous.swap(row.sku);
  }
  for (; next != batch.end(); ++next) out.write_row(next->sku, next->quantity);
  return true;
}

void write_merged(std::span<const PushItem> rows, std::span<const PushItem> batch, TempFile& out) {
  auto r = rows.begin();
  auto b = batch.begin();
  while (r != rows.end() || b != batch.end()) {
    if (b == batch.end() || (r != rows.end() && r->sku < b->sku)) {
      out.write_row(r->sku, r->quantity);
      ++r;
    } else {
      if (r != rows.end() && r->sku == b->sku) ++r;
      out.write_row(b->sku, b->quantity);
      ++b;
    }
  }
}

constexpr std::string_view header = "sku,quantity\n";

// What this process last wrote to each store file. While a file is still exactly that (same
// inode, size and modification time), its rows are known to be sorted, unique and well formed,
// and, when `plain`, none is quoted: every line is one row, and a small batch can be patched
// in by binary search instead of parsing and re-writing a million rows.
struct WrittenFile {
  dev_t device = 0;
  ino_t inode = 0;
  off_t size = 0;
  timespec modified{};
  bool plain = false;
};

std::mutex written_mutex;
std::map<fs::path, WrittenFile> written_files;

bool same_file(const WrittenFile& w, const struct stat& st) {
  return w.device == st.st_dev && w.inode == st.st_ino && w.size == st.st_size &&
         w.modified.tv_sec == st.st_mtim.tv_sec && w.modified.tv_nsec == st.st_mtim.tv_nsec;
}

void remember_written(const fs::path& path, bool plain) {
  struct stat st {};
  const std::lock_guard guard(written_mutex);
  if (::stat(path.c_str(), &st) != 0) {
    written_files.erase(path);
    return;
  }
  written_files[path] = WrittenFile{st.st_dev, st.st_ino, st.st_size, st.st_mtim, plain};
}

bool known_plain_file(const fs::path& path, const struct stat& st) {
  const std::lock_guard guard(written_mutex);
  const auto it = written_files.find(path);
  return it != written_files.end() && it->second.plain && same_file(it->second, st);
}

// The batch patched into a file this process wrote (known_plain_file): each SKU's line is
// found by binary search over byte offsets, and the unchanged runs between them are copied
// as they are. Returns false, having written nothing, when the file is not one it can patch.
bool patch_known_file(const fs::path& path, std::span<const PushItem> batch,
                      std::optional<mode_t> mode, const struct stat& st) {
  // Worth it only for a batch small next to the file; a big one streams just as fast.
  const auto size = static_cast<std::size_t>(st.st_size);
  if (batch.size() * 64 > size || !known_plain_file(path, st)) return false;
  for (const auto& item : batch)
    if (needs_quotes(item.sku)) return false;
  const auto data = FileCopy::read(path, size);
  if (!data || !data->text().starts_with(header)) return false;
  const std::string_view text = data->text();

  std::size_t pos = header.size();  // the start of the first line not yet written
  const auto line_start_from = [&](std::size_t p) -> std::size_t {
    if (p <= pos) return pos;
    const auto newline = text.find('\n', p - 1);
    return newline == std::string_view::npos ? text.size() : newline + 1;
  };
  const auto sku_at = [&](std::size_t line) {
    const auto end = text.find_first_of(",\n", line);
    return text.substr(line, (end == std::string_view::npos ? text.size() : end) - line);
  };

  TempFile out(path);
  out.write(header);
  for (const auto& item : batch) {
    // The first line at or after `pos` whose SKU is not less than the item's. The batch is
    // sorted, so it is usually near: gallop from `pos` to bound the search, then bisect (a
    // bisection over the whole rest of the file was 25 probes an item, 8 % of a 1 % run).
    std::size_t lo = pos, hi = text.size();
    for (std::size_t step = 256; lo + step < hi; step *= 2) {
      const std::size_t line = line_start_from(lo + step);
      if (line == text.size() || sku_at(line) >= item.sku) {
        hi = lo + step;
        break;
      }
      lo = lo + step + 1;
    }
    while (lo < hi) {
      const std::size_t mid = lo + (hi - lo) / 2;
      const std::size_t line = line_start_from(mid);
      if (line == text.size() || sku_at(line) >= item.sku)
        hi = mid;
      else
        lo = mid + 1;
    }
    const std::size_t line = line_start_from(lo);
    out.write(text.substr(pos, line - pos));
    out.write_row(item.sku, item.quantity);
    pos = line;
    if (line < text.size() && sku_at(line) == item.sku) {
      const auto newline = text.find('\n', line);
      pos = newline == std::string_view::npos ? text.size() : newline + 1;
    }
  }
  out.write(text.substr(pos));
  out.commit(mode);
  remember_written(path, true);
  return true;
}

}  // namespace

std::vector<PushItem> read_store_file(const fs::path& path) {
  std::vector<PushItem> rows;
  auto in = open_existing(path);
  if (!in) return rows;
  StoreFileReader reader(*in, path);
  PushItem row;
  std::uint64_t line = 0;
  while (reader.next(row, line)) rows.push_back(std::move(row));
  if (!strictly_sorted(rows)) sort_unique_last_wins(rows);
  return rows;
}

void apply_to_store_file(const fs::path& path, std::span<const PushItem> batch) {
  std::vector<PushItem> sorted_copy;
  if (!strictly_sorted(batch)) {
    sorted_copy.assign(batch.begin(), batch.end());
    sort_unique_last_wins(sorted_copy);
    batch = sorted_copy;
  }

  if (path.has_parent_path()) create_store_directories(path.parent_path());

  std::optional<mode_t> mode;
  struct stat old {};
  if (::stat(path.c_str(), &old) == 0) mode = old.st_mode & 07777;

  // Pushes to one file are serialised in this process, so any temp file of
  // ours found now was left by a killed beed.
  remove_stale_temp_files(path);
  if (mode && patch_known_file(path, batch, mode, old)) return;
  {
    auto in = open_existing(path);
    TempFile out(path);
    out.write(header);
    if (!in) {
      write_merged({}, batch, out);
      out.commit(mode);
      remember_written(path, !out.quoted());
      return;
    }
    if (merge_streaming(*in, path, batch, out)) {
      out.commit(mode);
      remember_written(path, !out.quoted());
      return;
    }
  }
  // The existing file is not sorted or not unique (edited by hand?): sort it in memory.
  const auto rows = read_store_file(path);
  TempFile out(path);
  out.write(header);
  write_merged(rows, batch, out);
  out.commit(mode);
  remember_written(path, !out.quoted());
}

}  // namespace pb::connectors
