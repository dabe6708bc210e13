#include "tests/cli/run_r1.h"

#include <sys/wait.h>
#include <unistd.h>

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
std::string quote(const std::string& s) {
    std::string q = "'";
    for (char c : s) {
        if (c == '\'') q += "'\\''";
        else q += c;
    }
    return q + "'";
}
}  // namespace

RunResult run_r1(const std::vector<std::string>& args, const std::string& stdin_text) {
    static int counter = 0;
    auto dir = std::filesystem::temp_directory_path() / ("r1_cli_" + std::to_string(getpid()) + "_" + std::to_string(counter++));
    std::filesystem::create_directories(dir);
    std::string cmd = quote(R1_BIN);
    for (const auto& a : args) cmd += " " + quote(a);
    {
        std::ofstream(dir / "in", std::ios::binary) << stdin_text;
    }
    cmd += " <" + quote((dir / "in").string()) + " >" + quote((dir / "out").string()) + " 2>" +
           quote((dir / "err").string());
    int rc = std::system(cmd.c_str());
    RunResult r;
    if (WIFEXITED(rc)) r.status = WEXITSTATUS(rc);
    else if (WIFSIGNALED(rc)) r.status = 128 + WTERMSIG(rc);
    r.out = slurp(dir / "out");
    r.err = slurp(dir / "err");
    std::filesystem::remove_all(dir);
    return r;
}

}  // namespace r1::test
