#include "tests/cli/run_r1.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

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

R1Process::R1Process(const std::vector<std::string>& args) {
    std::signal(SIGPIPE, SIG_IGN);  // a write to an exited child fails with EPIPE instead
    int pin[2], pout[2], perr[2];
    if (pipe2(pin, O_CLOEXEC) != 0 || pipe2(pout, O_CLOEXEC) != 0 || pipe2(perr, O_CLOEXEC) != 0)
        throw std::runtime_error("pipe2 failed");
    std::vector<std::string> argv_s{R1_BIN};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_ = fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
        dup2(pin[0], 0);
        dup2(pout[1], 1);
        dup2(perr[1], 2);
        execv(R1_BIN, argv.data());
        _exit(127);
    }
    close(pin[0]);
    close(pout[1]);
    close(perr[1]);
    in_ = pin[1];
    out_fd_ = pout[0];
    err_fd_ = perr[0];
    for (int fd : {in_, out_fd_, err_fd_}) fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

R1Process::~R1Process() {
    if (pid_ > 0) {
        kill(pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
    }
    for (int fd : {in_, out_fd_, err_fd_})
        if (fd >= 0) close(fd);
}

bool R1Process::pump(int wait_ms) {
    pollfd fds[2];
    int n = 0;
    for (int fd : {out_fd_, err_fd_})
        if (fd >= 0) fds[n++] = {fd, POLLIN, 0};
    if (n == 0) return false;
    if (poll(fds, nfds_t(n), wait_ms) <= 0) return true;
    for (int i = 0; i < n; ++i) {
        if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        char buf[65536];
        const ssize_t got = read(fds[i].fd, buf, sizeof buf);
        if (got > 0) {
            (fds[i].fd == out_fd_ ? out_ : err_).append(buf, size_t(got));
        } else if (got == 0 || errno != EAGAIN) {
            int& fd = fds[i].fd == out_fd_ ? out_fd_ : err_fd_;
            close(fd);
            fd = -1;
        }
    }
    return out_fd_ >= 0 || err_fd_ >= 0;
}

void R1Process::write(std::string_view text) {
    while (!text.empty() && in_ >= 0) {
        const ssize_t put = ::write(in_, text.data(), text.size());
        if (put > 0) text.remove_prefix(size_t(put));
        else if (errno != EAGAIN) break;  // the child exited (EPIPE)
        else pump(10);
    }
}

void R1Process::close_stdin() {
    if (in_ >= 0) close(in_);
    in_ = -1;
}

bool R1Process::wait_for(const std::string& stream, std::string_view needle, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (stream.find(needle) == std::string::npos) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0 || !pump(int(std::min<int64_t>(left.count(), 100)))) break;
    }
    return stream.find(needle) != std::string::npos;
}

bool R1Process::wait_for_err(std::string_view needle, std::chrono::milliseconds timeout) {
    return wait_for(err_, needle, timeout);
}
bool R1Process::wait_for_out(std::string_view needle, std::chrono::milliseconds timeout) {
    return wait_for(out_, needle, timeout);
}

void R1Process::signal(int sig) {
    if (pid_ > 0) kill(pid_, sig);
}

int R1Process::wait(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (pid_ > 0) {
        int st = 0;
        if (waitpid(pid_, &st, WNOHANG) == pid_) {
            pid_ = -1;
            status_ = WIFEXITED(st) ? WEXITSTATUS(st) : WIFSIGNALED(st) ? 128 + WTERMSIG(st) : -1;
            break;
        }
        if (std::chrono::steady_clock::now() >= deadline) {
            kill(pid_, SIGKILL);
            waitpid(pid_, nullptr, 0);
            pid_ = -1;
            return -1;
        }
        if (!pump(20)) usleep(20000);
    }
    for (int i = 0; i < 100 && pump(10); ++i) {  // what is left in the pipes
    }
    return status_;
}

}  // namespace r1::test
