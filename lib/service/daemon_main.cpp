#include "service/daemon_main.hpp"

#include <unistd.h>

#include <chrono>
#include <csignal>
#include <iostream>
#include <optional>

#include <spdlog/spdlog.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/program_options.hpp>

#include "config/config_loader.hpp"
#include "log/setup.hpp"
#include "service/service.hpp"
#include "state/state_check.hpp"
#include "sys/instance_lock.hpp"
#include "sys/notify.hpp"

namespace pb::service {
namespace po = boost::program_options;

namespace {

constexpr const char* kDefaultConfig = "/etc/packagebee/packagebee.yaml";

// The state is damaged: systemd/beed.service does not restart on it (RestartPreventExitStatus=).
constexpr int kExitStateCorrupt = 3;

// How long a stop waits for runs in flight to finish their current step.
// Below systemd's TimeoutStopSec (see systemd/beed.service).
constexpr std::chrono::seconds kStopDeadline{20};

po::options_description command_line_options() {
  po::options_description options("Options");
  // clang-format off
  options.add_options()
      ("config,c", po::value<std::string>()->default_value(kDefaultConfig)->value_name("PATH"),
       "configuration file")
      ("check-config", "validate the configuration and exit (0 = valid)")
      ("verify-state", "read every record of the state and exit (0 = sound, 3 = corrupt)")
      ("repair-state", "move a damaged state aside (data.mdb.corrupt-TIMESTAMP) and exit; "
                       "the next start rebuilds it with a Full Sync of each connection")
      ("log-level", po::value<std::string>()->value_name("LEVEL"),
       "override daemon.log_level: trace|debug|info|warning|error|critical|off")
      ("version,V", "print the version and exit")
      ("help,h", "print this help and exit");
  // clang-format on
  return options;
}

// Each startup step below returns the exit status when beed stops there, or
// nothing to go on.

// Parses argv into `vm`; answers --help and --version.
std::optional<int> parse_command_line(int argc, char** argv, po::variables_map& vm) {
  const po::options_description options = command_line_options();
  try {
    po::store(po::command_line_parser(argc, argv).options(options).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "beed: " << e.what() << "\nTry 'beed --help'.\n";
    return 2;
  }
  if (vm.count("help")) {
    std::cout
        << "Usage: beed [--config PATH] [--check-config | --verify-state | --repair-state]\n\n"
           "PackageBee daemon: keeps store stock quantities in line with the warehouse.\n"
           "Runs in the foreground; control it with beectl(1). See beed(8).\n\n"
        << options;
    return 0;
  }
  if (vm.count("version")) {
    std::cout << "beed " << PACKAGEBEE_VERSION << "\n";
    return 0;
  }
  return std::nullopt;
}

// Loads the configuration file into `config`; answers --check-config.
std::optional<int> load_configuration(const po::variables_map& vm, config::Config& config) {
  const std::string config_path = vm["config"].as<std::string>();
  try {
    config = config::load_config_file(config_path);
  } catch (const config::ConfigError& e) {
    std::cerr << "beed: configuration error: " << e.what() << "\n";
    return 1;
  }
  if (vm.count("check-config")) {
    std::cout << "beed: " << config.source.string() << ": configuration OK ("
              << config.connections.size() << " connection"
              << (config.connections.size() == 1 ? "" : "s") << ")\n";
    return 0;
  }
  return std::nullopt;
}

// "N records in T s", for the state check's messages.
std::string records_in(const state::StateCheck& check, std::chrono::steady_clock::duration took) {
  return fmt::format("{} records in {:.2f} s", check.records,
                     std::chrono::duration<double>(took).count());
}

// --verify-state and --repair-state: beed is not started; the answer goes to the terminal.
std::optional<int> state_commands(const po::variables_map& vm, const config::Config& config) {
  const bool repair = vm.count("repair-state") != 0;
  if (!repair && !vm.count("verify-state")) return std::nullopt;
  const auto& dir = config.daemon.state_dir;
  try {
    // Held throughout: the state must not be checked half-written or moved under a running beed.
    std::optional<sys::InstanceLock> lock;
    if (repair) lock.emplace(dir);
    const auto began = std::chrono::steady_clock::now();
    const auto check = state::verify_state_isolated(dir);
    const auto took = std::chrono::steady_clock::now() - began;
    if (check.verdict == state::StateCheck::Verdict::ok)
      std::cout << "beed: state in " << dir.string() << " is sound (" << records_in(check, took)
                << ")\n";
    else
      std::cerr << "beed: " << check.problem << "\n";
    if (!repair) {
      if (check.verdict == state::StateCheck::Verdict::corrupt) return kExitStateCorrupt;
      return check.verdict == state::StateCheck::Verdict::ok ? 0 : 1;
    }
    const auto aside = state::move_state_aside(dir);
    if (aside)
      std::cout << "beed: moved " << (dir / "data.mdb").string() << " to " << aside->string()
                << "; the next start begins with an empty state, and each connection's first "
                   "run is a Full Sync that rebuilds it from the warehouse\n";
    else
      std::cout << "beed: no state in " << dir.string() << " to move aside\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "beed: " << e.what() << "\n";
    return 1;
  }
}

// Before the service starts (and before any thread: the check forks), so that a damaged state
// is a refusal to start naming the file and the way out, with an exit status systemd does not
// restart on, rather than a SIGSEGV or SIGBUS crash loop.
std::optional<int> check_state(const config::Config& config) {
  const auto& dir = config.daemon.state_dir;
  const auto began = std::chrono::steady_clock::now();
  const auto check = state::verify_state_isolated(dir);
  const auto took = std::chrono::steady_clock::now() - began;
  switch (check.verdict) {
    case state::StateCheck::Verdict::ok:
      spdlog::info("state in {} checked: {}", dir.string(), records_in(check, took));
      return std::nullopt;
    case state::StateCheck::Verdict::unreadable:
      spdlog::critical("cannot start: {}", check.problem);
      return 1;
    case state::StateCheck::Verdict::corrupt:
      break;
  }
  spdlog::critical(
      "cannot start: {}. To recover, stop beed and run `beed --config {} --repair-state` as "
      "its user: it moves the damaged file aside, and the next start rebuilds the state with a "
      "Full Sync of each connection (see beed(8), STATE RECOVERY)",
      check.problem, config.source.string());
  return kExitStateCorrupt;
}

// Sets up logging at --log-level, or else daemon.log_level.
std::optional<int> start_logging(const po::variables_map& vm, const config::Config& config) {
  std::string level = config.daemon.log_level;
  if (vm.count("log-level")) level = vm["log-level"].as<std::string>();
  if (spdlog::level::from_str(level) == spdlog::level::off && level != "off") {
    std::cerr << "beed: unknown log level '" << level << "'\n";
    return 2;
  }
  pb::log::setup("beed", spdlog::level::from_str(level));
  return std::nullopt;
}

// The running daemon: the service, what systemd is told about it (readiness,
// status, watchdog), and the signals that stop or reload it.
class Daemon {
 public:
  explicit Daemon(const config::Config& config) : service_(io_, config) {}

  int run() {
    try {
      service_.start();
    } catch (const std::exception& e) {
      spdlog::critical("cannot start: {}", e.what());
      return 1;
    }
    spdlog::info("beed {} started (pid {})", PACKAGEBEE_VERSION, getpid());
    report_to_systemd();
    // Signals are caught only once the service runs: until then a SIGTERM
    // ends beed at once, there being nothing to stop gracefully.
    stop_signals_.emplace(io_, SIGTERM, SIGINT);
    wait_for_stop_signal();
    hup_.emplace(io_, SIGHUP);
    wait_for_hup();
    io_.run();
    spdlog::info("stopped");
    return 0;
  }

 private:
  void report_to_systemd() {
    // READY only now: the control socket accepts, so `systemctl start`
    // returns when beectl can talk to beed.
    notifier_.ready();
    notifier_.status(service_.status_line());
    service_.on_status_change([this] { notifier_.status(service_.status_line()); });
    service_.on_reload([this](bool begins) {
      if (begins) {
        notifier_.reloading();
      } else {
        notifier_.ready();
        notifier_.status(service_.status_line());
      }
    });
    if (const auto interval = notifier_.watchdog_interval()) {
      watchdog_every_ = *interval;
      pet_watchdog();
    }
  }

  // WATCHDOG=1 from the loop itself: if the loop is stuck, systemd notices.
  void pet_watchdog() {
    notifier_.watchdog();
    watchdog_.expires_after(watchdog_every_);
    watchdog_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) pet_watchdog();
    });
  }

  void wait_for_stop_signal() {
    stop_signals_->async_wait(
        [this](const boost::system::error_code& ec, int signo) { on_stop_signal(ec, signo); });
  }

  // First SIGTERM/SIGINT: stop accepting, let runs end after their current
  // step (bounded by kStopDeadline), then leave the loop. A second one exits
  // at once; the state is safe either way because every confirmation is
  // committed batch by batch.
  void on_stop_signal(const boost::system::error_code& ec, int signo) {
    if (ec) return;
    if (service_.stopping()) {
      spdlog::warn("second signal ({}): exiting now", strsignal(signo));
      std::_Exit(0);
    }
    spdlog::info("{}: stopping", strsignal(signo));
    notifier_.stopping();
    service_.shutdown(kStopDeadline, [this](bool abandoned) {
      if (abandoned) {
        // A worker is stuck in a blocking call (a feed on a hung mount, a
        // FIFO nobody writes): it cannot be joined, so leave without it.
        // Nothing is lost: what was confirmed is committed, the rest is
        // pending, and the run is marked interrupted at the next start.
        spdlog::warn("exiting with a run abandoned");
        spdlog::default_logger()->flush();
        std::_Exit(0);
      }
      watchdog_.cancel();
      io_.stop();
    });
    wait_for_stop_signal();
  }

  // SIGHUP: reload, as `beectl reload` does; the outcome goes to the log.
  void wait_for_hup() {
    hup_->async_wait([this](const boost::system::error_code& ec, int) {
      if (ec) return;
      boost::asio::co_spawn(
          io_,
          [this]() -> boost::asio::awaitable<void> {
            try {
              co_await service_.reload();
            } catch (const std::exception& e) {
              spdlog::error("SIGHUP: reload refused, the running configuration stays: {}",
                            e.what());
            }
          },
          boost::asio::detached);
      wait_for_hup();
    });
  }

  boost::asio::io_context io_;
  Service service_;
  const sys::Notifier notifier_{};
  boost::asio::steady_timer watchdog_{io_};
  std::chrono::microseconds watchdog_every_{};
  std::optional<boost::asio::signal_set> stop_signals_;
  std::optional<boost::asio::signal_set> hup_;
};

}  // namespace

int daemon_main(int argc, char** argv) {
  po::variables_map vm;
  if (const auto done = parse_command_line(argc, argv, vm)) return *done;
  config::Config config;
  if (const auto done = load_configuration(vm, config)) return *done;
  if (const auto done = state_commands(vm, config)) return *done;
  if (const auto done = start_logging(vm, config)) return *done;
  if (const auto done = check_state(config)) return *done;
  Daemon daemon(config);
  return daemon.run();
}

}  // namespace pb::service
