// A process-wide SIGBUS guard for mmapped model files (RELIABILITY.md G26): a file truncated on
// disk after it was mapped makes reads past the new end raise SIGBUS. Instead of a crash dump,
// the guard prints one clear line and exits with status 1.
#pragma once

namespace r1 {

// Idempotent; call once at start-up from the program (cli/main.cpp), not from libraries.
void install_sigbus_guard();

}  // namespace r1
