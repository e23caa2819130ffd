#include "service/daemon_main.hpp"

#include <unistd.h>

#include <csignal>
#include <iostream>

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
#include "sys/notify.hpp"

namespace pb::service {
namespace po = boost::program_options;

namespace {

constexpr const char* kDefaultConfig = "/etc/packagebee/packagebee.yaml";

// How long a stop waits for runs in flight to finish their current step.
// Below systemd's TimeoutStopSec (see systemd/beed.service).
constexpr std::chrono::seconds kStopDeadline{20};

}  // namespace

int daemon_main(int argc, char** argv) {
  po::options_description options("Options");
  // clang-format off
  options.add_options()
      ("config,c", po::value<std::string>()->default_value(kDefaultConfig)->value_name("PATH"),
       "configuration file")
      ("check-config", "validate the configuration and exit (0 = valid)")
      ("log-level", po::value<std::string>()->value_name("LEVEL"),
       "override daemon.log_level: trace|debug|info|warning|error|critical|off")
      ("version,V", "print the version and exit")
      ("help,h", "print this help and exit");
  // clang-format on
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv).options(options).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "beed: " << e.what() << "\nTry 'beed --help'.\n";
    return 2;
  }
  if (vm.count("help")) {
    std::cout << "Usage: beed [--config PATH] [--check-config]\n\n"
                 "PackageBee daemon: keeps store stock quantities in line with the warehouse.\n"
                 "Runs in the foreground; control it with beectl(1). See beed(8).\n\n"
              << options;
    return 0;
  }
  if (vm.count("version")) {
    std::cout << "beed " << PACKAGEBEE_VERSION << "\n";
    return 0;
  }

  const std::string config_path = vm["config"].as<std::string>();
  config::Config config;
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

  std::string level = config.daemon.log_level;
  if (vm.count("log-level")) level = vm["log-level"].as<std::string>();
  if (spdlog::level::from_str(level) == spdlog::level::off && level != "off") {
    std::cerr << "beed: unknown log level '" << level << "'\n";
    return 2;
  }
  pb::log::setup("beed", spdlog::level::from_str(level));

  boost::asio::io_context io;
  Service service(io, config);
  const sys::Notifier notifier;
  try {
    service.start();
  } catch (const std::exception& e) {
    spdlog::critical("cannot start: {}", e.what());
    return 1;
  }
  spdlog::info("beed {} started (pid {})", PACKAGEBEE_VERSION, getpid());
  // READY only now: the control socket accepts, so `systemctl start` returns
  // when beectl can talk to beed.
  notifier.ready();
  notifier.status(service.status_line());
  service.on_status_change([&] { notifier.status(service.status_line()); });
  service.on_reload([&](bool begins) {
    if (begins) {
      notifier.reloading();
    } else {
      notifier.ready();
      notifier.status(service.status_line());
    }
  });

  // WATCHDOG=1 from the loop itself: if the loop is stuck, systemd notices.
  boost::asio::steady_timer watchdog(io);
  std::function<void()> pet;
  if (const auto interval = notifier.watchdog_interval()) {
    pet = [&, every = *interval] {
      notifier.watchdog();
      watchdog.expires_after(every);
      watchdog.async_wait([&](const boost::system::error_code& ec) {
        if (!ec) pet();
      });
    };
    pet();
  }

  // First SIGTERM/SIGINT: stop accepting, let runs end after their current
  // step (bounded by kStopDeadline), then leave the loop. A second one exits
  // at once; the state is safe either way because every confirmation is
  // committed batch by batch.
  boost::asio::signal_set stop_signals(io, SIGTERM, SIGINT);
  std::function<void(const boost::system::error_code&, int)> on_signal =
      [&](const boost::system::error_code& ec, int signo) {
        if (ec) return;
        if (service.stopping()) {
          spdlog::warn("second signal ({}): exiting now", strsignal(signo));
          std::_Exit(0);
        }
        spdlog::info("{}: stopping", strsignal(signo));
        notifier.stopping();
        service.shutdown(kStopDeadline, [&](bool abandoned) {
          if (abandoned) {
            // A worker is stuck in a blocking call (a feed on a hung mount,
            // a FIFO nobody writes): it cannot be joined, so leave without
            // it. Nothing is lost: what was confirmed is committed, the rest
            // is pending, and the run is marked interrupted at the next start.
            spdlog::warn("exiting with a run abandoned");
            spdlog::default_logger()->flush();
            std::_Exit(0);
          }
          watchdog.cancel();
          io.stop();
        });
        stop_signals.async_wait(on_signal);
      };
  stop_signals.async_wait(on_signal);

  // SIGHUP: reload, as `beectl reload` does; the outcome goes to the log.
  boost::asio::signal_set hup(io, SIGHUP);
  std::function<void(const boost::system::error_code&, int)> on_hup =
      [&](const boost::system::error_code& ec, int) {
        if (ec) return;
        boost::asio::co_spawn(
            io,
            [&]() -> boost::asio::awaitable<void> {
              try {
                co_await service.reload();
              } catch (const std::exception& e) {
                spdlog::error("SIGHUP: reload refused, the running configuration stays: {}",
                              e.what());
              }
            },
            boost::asio::detached);
        hup.async_wait(on_hup);
      };
  hup.async_wait(on_hup);

  io.run();
  spdlog::info("stopped");
  return 0;
}

}  // namespace pb::service
