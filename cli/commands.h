// The `r1` subcommands. Each add_* declares its flags on the app and sets the callback that
// runs it; callbacks throw r1::Error for user errors, which main() prints as one line.
#pragma once

#include <CLI/CLI.hpp>

namespace r1::cli {

void add_info(CLI::App& app);

}  // namespace r1::cli
