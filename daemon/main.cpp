// beed: the PackageBee daemon. Everything it does lives in lib/service.
#include <malloc.h>

#include "service/daemon_main.hpp"

int main(int argc, char** argv) {
  // beed runs for weeks, and a big run allocates its large blocks (a million feed rows, push
  // batches, LMDB's pages) on whichever pool thread runs a step. Left to glibc's defaults, the
  // mmap threshold climbs to 32 MB after the first big free, so later big blocks come from the
  // threads' heaps and stay there, fragmented, after the run (issue 14: RssAnon at rest).
  // A fixed threshold keeps every block of 256 KB or more in its own mapping, given back to
  // the kernel when freed; two arenas instead of eight per core bound what the pool threads
  // can strand between them.
  mallopt(M_MMAP_THRESHOLD, 256 * 1024);
  mallopt(M_ARENA_MAX, 2);
  return pb::service::daemon_main(argc, argv);
}
