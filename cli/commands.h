// The `r1` subcommands register themselves: each cli/cmd_*.cpp defines an add function that
// declares its flags on the app and sets a callback, and registers it with R1_COMMAND.
// Callbacks throw r1::Error for user errors; main() prints them as one line and exits 1.
#pragma once

#include <CLI/CLI.hpp>
#include <vector>

namespace r1::cli {

using AddCommand = void (*)(CLI::App&);

struct CommandEntry {
    int order;  // position in `r1 --help`
    AddCommand add;
};

inline std::vector<CommandEntry>& command_registry() {
    static std::vector<CommandEntry> r;
    return r;
}

inline bool register_command(int order, AddCommand add) {
    command_registry().push_back({order, add});
    return true;
}

}  // namespace r1::cli

// In a cli/cmd_*.cpp: R1_COMMAND(10, add_info); order sets the place in --help.
#define R1_COMMAND(order, fn) \
    static const bool r1_registered_##fn = ::r1::cli::register_command(order, fn)
