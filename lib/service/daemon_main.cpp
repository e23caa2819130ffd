#include "service/daemon_main.hpp"

#include <unistd.h>

#include <csignal>
#include <iostream>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/program_options.hpp>

#include "config/config_loader.hpp"
#include "service/service.hpp"

namespace pb::service {
namespace po = boost::program_options;

namespace {

constexpr const char* kDefaultConfig = "/etc/packagebee/packagebee.yaml";

void setup_logging(const std::string& level) {
  auto logger = spdlog::stderr_color_mt("beed");
  // Under systemd the journal stamps each line itself; on a terminal a
  // timestamp helps.
  if (isatty(STDERR_FILENO))
    logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %^%-5l%$ %v");
  else
    logger->set_pattern("%l: %v");
  logger->set_level(spdlog::level::from_str(level));
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(logger);
}

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
  setup_logging(level);

  boost::asio::io_context io;
  Service service(io, config);
  try {
    service.start();
  } catch (const std::exception& e) {
    spdlog::critical("cannot start: {}", e.what());
    return 1;
  }
  spdlog::info("beed {} started (pid {})", PACKAGEBEE_VERSION, getpid());

  // First SIGTERM/SIGINT: stop the schedules and the socket, let the loop
  // wind down. A second one exits at once; the state is safe either way
  // because every confirmation is committed batch by batch.
  boost::asio::signal_set stop_signals(io, SIGTERM, SIGINT);
  bool stopping = false;
  std::function<void(const boost::system::error_code&, int)> on_signal =
      [&](const boost::system::error_code& ec, int signo) {
        if (ec) return;
        if (stopping) {
          spdlog::warn("second signal ({}): exiting now", strsignal(signo));
          std::_Exit(0);
        }
        stopping = true;
        spdlog::info("{}: stopping", strsignal(signo));
        service.stop();
        io.stop();
      };
  stop_signals.async_wait(on_signal);
  // Reloading arrives with the full lifecycle work; until then SIGHUP must not
  // kill the daemon (its default action).
  boost::asio::signal_set hup(io, SIGHUP);
  std::function<void(const boost::system::error_code&, int)> on_hup =
      [&](const boost::system::error_code& ec, int) {
        if (ec) return;
        spdlog::warn("SIGHUP: configuration reload is not supported yet; restart beed instead");
        hup.async_wait(on_hup);
      };
  hup.async_wait(on_hup);

  io.run();
  spdlog::info("stopped");
  return 0;
}

}  // namespace pb::service
