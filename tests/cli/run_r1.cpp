#include "tests/cli/run_r1.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace r1::test {

namespace {
std::string slurp(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kAsan = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kAsan = true;
#else
constexpr bool kAsan = false;
#endif
#else
constexpr bool kAsan = false;
#endif
}  // namespace

RunResult run_r1(const std::vector<std::string>& args, const std::string& stdin_text) {
    return run_r1(args, RunOptions{.stdin_text = stdin_text, .stdin_path = "", .address_space_mib = 0});
}

RunResult run_r1(const std::vector<std::string>& args, const RunOptions& o) {
    static int counter = 0;
    auto dir = std::filesystem::temp_directory_path() / ("r1_cli_" + std::to_string(getpid()) + "_" + std::to_string(counter++));
    std::filesystem::create_directories(dir);
    if (o.stdin_path.empty()) std::ofstream(dir / "in", std::ios::binary) << o.stdin_text;
    const std::string in = o.stdin_path.empty() ? (dir / "in").string() : o.stdin_path;
    const std::string out = (dir / "out").string(), err = (dir / "err").string();
    // Everything the child needs is made before fork: only async-signal-safe calls after it.
    std::vector<std::string> argv_s{R1_BIN};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);
    const rlim_t as_limit = o.address_space_mib > 0 && !kAsan ? rlim_t(o.address_space_mib) << 20 : 0;

    const pid_t pid = ::fork();
    if (pid == 0) {
        const int fi = ::open(in.c_str(), O_RDONLY);
        const int fo = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        const int fe = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fi < 0 || fo < 0 || fe < 0 || ::dup2(fi, 0) < 0 || ::dup2(fo, 1) < 0 || ::dup2(fe, 2) < 0) ::_exit(126);
        if (as_limit) {
            const struct rlimit lim = {as_limit, as_limit};
            ::setrlimit(RLIMIT_AS, &lim);
        }
        ::execv(argv[0], argv.data());
        ::_exit(127);
    }
    RunResult r;
    int rc = 0;
    struct rusage ru = {};
    while (pid > 0 && ::wait4(pid, &rc, 0, &ru) < 0 && errno == EINTR) {
    }
    if (pid > 0 && WIFEXITED(rc)) r.status = WEXITSTATUS(rc);
    else if (pid > 0 && WIFSIGNALED(rc)) r.status = 128 + WTERMSIG(rc);
    r.max_rss_kb = ru.ru_maxrss;
    r.out = slurp(out);
    r.err = slurp(err);
    std::filesystem::remove_all(dir);
    return r;
}

}  // namespace r1::test
