// beed: the PackageBee daemon. Everything it does lives in lib/service.
#include "service/daemon_main.hpp"

int main(int argc, char** argv) {
  return pb::service::daemon_main(argc, argv);
}
