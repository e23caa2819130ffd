// Full and Smart Sync over a generated catalogue, CSV warehouse into the CSV
// store, through the same engine beed runs. Each phase runs in a child process
// so that its peak RSS is its own. Usage: sync_bench [SKUS] [CHANGED] [DIR]
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_future.hpp>

#include "config/config.hpp"
#include "connectors/factory.hpp"
#include "sync/sync_run.hpp"

namespace fs = std::filesystem;
namespace asio = boost::asio;
using namespace pb;

namespace {

struct PhaseResult {
  double peak_anon_mb = 0;  // heap and stacks: what the process itself allocates
  double wall_s = 0;
  std::uint64_t read = 0, changed = 0, pushed = 0;
  int result = 0;
};

std::vector<pb::Quantity> write_feed(const fs::path& file, std::vector<pb::Quantity> qty,
                                     std::size_t change, std::mt19937_64& rng) {
  std::uniform_int_distribution<std::size_t> pick(0, qty.size() - 1);
  for (std::size_t n = 0; n < change;) {  // exactly `change` distinct SKUs get a new figure
    auto& q = qty[pick(rng)];
    if (q >= 1'000'000) continue;
    q += 1'000'000;
    ++n;
  }
  for (auto& q : qty)
    if (q >= 1'000'000) q = (q - 1'000'000 + 7) % 500;
  std::ofstream out(file);
  out << "sku,quantity\n";
  char line[64];
  for (std::size_t i = 0; i < qty.size(); ++i) {
    const int n =
        std::snprintf(line, sizeof line, "SKU-%07zu,%lld\n", i, static_cast<long long>(qty[i]));
    out.write(line, n);
  }
  return qty;
}

PhaseResult run_phase(const fs::path& dir, SyncKind kind) {
  config::CsvWarehouseConfig wcfg;
  wcfg.path = dir / "feeds";
  wcfg.pattern = "inv_*.csv";
  config::CsvStoreConfig scfg;
  scfg.path = dir / "store.csv";
  auto warehouse = connectors::make_warehouse(wcfg);
  auto store = connectors::make_store(scfg, connectors::StoreDeps{});
  state::InventoryDb db(dir / "state");
  asio::io_context io;
  asio::thread_pool pool(2);
  sync::RunControl control;
  state::RunRecord run;
  run.id = 1;
  run.kind = kind;
  const auto start = std::chrono::steady_clock::now();
  run.started_at = now_millis();
  sync::RunEnvironment env{db, *warehouse, *store, pool.get_executor(), async::BackoffPolicy{}};
  const std::string connection = "bench";
  auto fut = asio::co_spawn(io, sync::execute_run(env, connection, sync::Rules{}, run, control),
                            asio::use_future);
  io.run();
  const auto done = fut.get();
  pool.join();
  PhaseResult r;
  r.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  r.read = done.read;
  r.changed = done.changed;
  r.pushed = done.pushed;
  r.result = static_cast<int>(done.result);
  if (done.result != RunResult::ok) std::fprintf(stderr, "run failed: %s\n", done.error.c_str());
  return r;
}

// Runs the phase in a child; returns its result and peak RSS in MiB.
std::pair<PhaseResult, double> in_child(const fs::path& dir, SyncKind kind) {
  int fds[2];
  if (pipe(fds) != 0) std::exit(1);
  const pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    // Sample anonymous RSS (statm resident - shared): RSS as the kernel
    // reports it also counts LMDB's file mapping, clean page cache that the
    // kernel drops under pressure.
    std::atomic<bool> done{false};
    std::atomic<long> peak_pages{0};
    std::thread sampler([&] {
      while (!done) {
        long size = 0, resident = 0, shared = 0;
        if (FILE* f = std::fopen("/proc/self/statm", "r")) {
          if (std::fscanf(f, "%ld %ld %ld", &size, &resident, &shared) != 3) resident = shared = 0;
          std::fclose(f);
        }
        if (resident - shared > peak_pages) peak_pages = resident - shared;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
    });
    auto r = run_phase(dir, kind);
    done = true;
    sampler.join();
    r.peak_anon_mb = static_cast<double>(peak_pages.load() * sysconf(_SC_PAGESIZE)) / 1048576.0;
    if (write(fds[1], &r, sizeof r) != static_cast<ssize_t>(sizeof r)) _exit(1);
    _exit(0);
  }
  close(fds[1]);
  PhaseResult r;
  if (read(fds[0], &r, sizeof r) != static_cast<ssize_t>(sizeof r)) std::exit(1);
  close(fds[0]);
  int status = 0;
  rusage usage{};
  wait4(pid, &status, 0, &usage);
  return {r, static_cast<double>(usage.ru_maxrss) / 1024.0};
}

std::uintmax_t dir_bytes(const fs::path& dir) {
  std::uintmax_t n = 0;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_regular_file()) n += e.file_size();
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  const std::size_t skus = argc > 1 ? std::stoul(argv[1]) : 1'000'000;
  const std::size_t changed = argc > 2 ? std::stoul(argv[2]) : skus / 100;
  const fs::path dir = argc > 3 ? fs::path(argv[3]) : fs::temp_directory_path() / "pb-sync-bench";
  fs::remove_all(dir);
  fs::create_directories(dir / "feeds");
  std::mt19937_64 rng(42);
  std::vector<Quantity> qty(skus);
  std::uniform_int_distribution<Quantity> q(0, 499);
  for (auto& v : qty) v = q(rng);

  std::printf("sync_bench: %zu SKUs, %zu changed, CSV warehouse -> CSV store, in %s\n", skus,
              changed, dir.c_str());
  std::printf("%-26s %8s %9s %9s %9s %12s %13s %9s\n", "phase", "wall s", "read", "changed",
              "pushed", "peak RSS MB", "peak anon MB", "LMDB MB");
  auto report = [&](const char* name, SyncKind kind) {
    const auto [r, rss] = in_child(dir, kind);
    // LMDB's data file is sparse up to the map size: count the bytes in use.
    const auto lmdb = static_cast<double>(dir_bytes(dir / "state")) / 1048576.0;
    std::printf("%-26s %8.3f %9llu %9llu %9llu %12.1f %13.1f %9.1f\n", name, r.wall_s,
                static_cast<unsigned long long>(r.read), static_cast<unsigned long long>(r.changed),
                static_cast<unsigned long long>(r.pushed), rss, r.peak_anon_mb, lmdb);
    std::fflush(stdout);
  };

  qty = write_feed(dir / "feeds" / "inv_1.csv", qty, 0, rng);
  report("full sync (first)", SyncKind::full);
  fs::last_write_time(dir / "feeds" / "inv_1.csv",
                      fs::file_time_type::clock::now() - std::chrono::hours(1));
  qty = write_feed(dir / "feeds" / "inv_2.csv", qty, changed, rng);
  report("smart sync (1% changed)", SyncKind::smart);
  report("smart sync (no change)", SyncKind::smart);
  report("full sync (no change)", SyncKind::full);
  return 0;
}
