// beed's command line and lifecycle: parse arguments, load the configuration,
// run the service until a signal stops it.
#pragma once

namespace pb::service {

// Exit status: 0 clean stop, valid config or sound state; 1 the configuration or the state
// could not be used; 2 usage error; 3 the state file is corrupt (see --repair-state).
int daemon_main(int argc, char** argv);

}  // namespace pb::service
