// SIGBUS -> one error line and exit 1. Only async-signal-safe calls in the handler.
#include "core/sigbus_guard.h"

#include <signal.h>
#include <unistd.h>

#include <cstring>

namespace r1 {
namespace {

void on_sigbus(int) {
    static constexpr char kMsg[] =
        "r1: error: a mapped model file was truncated or changed on disk while in use\n";
    ssize_t ignored = write(STDERR_FILENO, kMsg, sizeof(kMsg) - 1);
    (void)ignored;
    _exit(1);
}

}  // namespace

void install_sigbus_guard() {
    struct sigaction sa;
    std::memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_sigbus;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGBUS, &sa, nullptr);
}

}  // namespace r1
