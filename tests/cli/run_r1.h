// Runs the built `r1` binary with arguments and captures stdout, stderr and the exit status,
// so tests check the command-line contract (CLI.md) as a user meets it.
#pragma once

#include <string>
#include <vector>

namespace r1::test {

struct RunResult {
    int status = -1;  // exit status; 128 + signal when killed by a signal
    std::string out, err;
};

RunResult run_r1(const std::vector<std::string>& args, const std::string& stdin_text = "");

}  // namespace r1::test
