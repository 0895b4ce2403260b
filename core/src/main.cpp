#include "cli.h"

int main(int argc, char** argv) {
    return crossover::core::run_cli(argc, argv);
}
