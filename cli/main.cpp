// `r1` entry point: builds the CLI11 app from cli/commands.h and turns every error into one
// line on stderr and exit status 1 (CLI.md).
#include <algorithm>
#include <csignal>
#include <cstdio>
#include <exception>
#include <new>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "core/error.h"
#include "core/sigbus_guard.h"

int main(int argc, char** argv) {
    std::signal(SIGPIPE, SIG_IGN);
    r1::install_sigbus_guard();
    CLI::App app{"r1 — DeepSeek-R1 inference runtime (chat, run, convert, quantize, bench, info)", "r1"};
    app.require_subcommand(1);
    app.set_version_flag("--version", "r1-edge 0.1.0");
    auto commands = r1::cli::command_registry();
    std::sort(commands.begin(), commands.end(),
              [](const auto& a, const auto& b) { return a.order < b.order; });
    for (const auto& c : commands) c.add(app);
    // llama.cpp's one-dash long flag `-ngl` (CLI.md); CLI11 only knows one-letter short flags.
    std::vector<std::string> args(argv + 1, argv + argc);
    for (auto& a : args)
        if (a == "-ngl") a = "--gpu-layers";
    std::reverse(args.begin(), args.end());  // CLI11 takes the arguments in reverse order
    try {
        app.parse(args);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        std::fprintf(stderr, "r1: error: %s\n", e.what());
        return 1;
    } catch (const r1::Error& e) {
        std::fprintf(stderr, "r1: error: %s\n", e.what());
        return 1;
    } catch (const std::bad_alloc&) {
        std::fprintf(stderr, "r1: error: out of memory\n");
        return 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "r1: error: %s\n", e.what());
        return 1;
    }
    return 0;
}
