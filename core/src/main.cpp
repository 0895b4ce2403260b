#include <malloc.h>
#include <signal.h>

#include "cli.h"
#include "supervisor.h"

int main(int argc, char** argv) {
    // Before anything else: a SIGTERM in the first milliseconds waits for the handler.
    crossover::core::block_stop_signals();
    // A peer that closes a connection while crossover writes to it (an API server restarting
    // under a TLS write, an xDS client or a scraper going away) is an error of that write, not
    // the end of the process. A library's initializer happens to block SIGPIPE before main
    // today; crossover does not rely on that.
    ::signal(SIGPIPE, SIG_IGN);
    // One malloc arena for all threads. glibc gives every thread that allocates its own arena;
    // a source's documents are then built in its thread's arena and freed by the engine
    // thread, and each arena keeps its own freed, partly used pages resident. crossover's
    // threads allocate little at the same time (a source between events, the engine during a
    // recompute), so sharing one arena costs no measurable CPU and keeps up to 1 MiB less
    // resident with a 300 KiB ConfigMap (docs/performance.md, issue 12, memory).
    ::mallopt(M_ARENA_MAX, 1);
    return crossover::core::run_cli(argc, argv);
}
