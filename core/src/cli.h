// Command line: `crossover run|validate|plugins ...` and the drop-in flags of
// the original crossover.
#pragma once

namespace crossover::core {

int run_cli(int argc, char** argv);

}  // namespace crossover::core
