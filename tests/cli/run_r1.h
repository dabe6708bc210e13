// Runs the built `r1` binary with arguments and captures stdout, stderr and the exit status,
// so tests check the command-line contract (CLI.md) as a user meets it.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
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

// A running r1 with pipes to its stdin, stdout and stderr, for interactive commands (r1 chat):
// write a line, wait until some text has appeared, send a signal. Killed when destroyed.
class R1Process {
public:
    explicit R1Process(const std::vector<std::string>& args);
    ~R1Process();
    R1Process(const R1Process&) = delete;
    R1Process& operator=(const R1Process&) = delete;

    // Writes to stdin (collecting output meanwhile, so neither side blocks the other).
    void write(std::string_view text);
    void close_stdin();
    // Collects output until `needle` is in stderr (or stdout), the process exits, or `timeout`
    // passes; returns whether it appeared.
    bool wait_for_err(std::string_view needle, std::chrono::milliseconds timeout);
    bool wait_for_out(std::string_view needle, std::chrono::milliseconds timeout);
    void signal(int sig);
    // Waits up to `timeout` for the exit; then kills it. Returns the status (128 + signal when
    // killed by one), or -1 when it had to be killed at the timeout.
    int wait(std::chrono::milliseconds timeout);

    const std::string& out() const { return out_; }
    const std::string& err() const { return err_; }

private:
    bool pump(int wait_ms);  // reads what is available; false once both outputs are closed
    bool wait_for(const std::string& stream, std::string_view needle, std::chrono::milliseconds timeout);
    int pid_ = -1, in_ = -1, out_fd_ = -1, err_fd_ = -1;
    int status_ = -1;
    std::string out_, err_;
};

}  // namespace r1::test
