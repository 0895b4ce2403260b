#include "cli.h"
#include "supervisor.h"

int main(int argc, char** argv) {
    // Before anything else: a SIGTERM in the first milliseconds waits for the handler.
    crossover::core::block_stop_signals();
    return crossover::core::run_cli(argc, argv);
}
