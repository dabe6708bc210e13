// Runs the built `r1` binary with arguments and captures stdout, stderr and the exit status,
// so tests check the command-line contract (CLI.md) as a user meets it.
#pragma once

#include <string>
#include <vector>

namespace r1::test {

struct RunResult {
    int status = -1;  // exit status; 128 + signal when killed by a signal
    std::string out, err;
    long max_rss_kb = 0;  // the child's peak resident memory (getrusage via wait4)
};

struct RunOptions {
    std::string stdin_text;  // written to a private file that becomes standard input
    std::string stdin_path;  // or this file (a FIFO, /dev/zero) as standard input
    // RLIMIT_AS for the child in MiB (0: none), so an unbounded read fails instead of taking
    // the machine's memory. Ignored under AddressSanitizer, which reserves terabytes.
    long address_space_mib = 0;
};

RunResult run_r1(const std::vector<std::string>& args, const std::string& stdin_text = "");
RunResult run_r1(const std::vector<std::string>& args, const RunOptions& options);

}  // namespace r1::test
