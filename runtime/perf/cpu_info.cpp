// Physical core count from sysfs topology and the CPU model name from /proc/cpuinfo.
#include <sched.h>

#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <utility>

#include "runtime/perf/perf.h"

namespace r1::perf {

namespace {

bool read_int(const std::string& path, int& out) {
    std::ifstream f(path);
    return bool(f >> out);
}

}  // namespace

int physical_cores() {
    const int fallback = std::max(1, int(std::thread::hardware_concurrency()));
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof(set), &set) != 0) return fallback;
    std::set<std::pair<int, int>> cores;
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
        if (!CPU_ISSET(cpu, &set)) continue;
        const std::string dir = "/sys/devices/system/cpu/cpu" + std::to_string(cpu) + "/topology/";
        int package = 0, core = 0;
        if (!read_int(dir + "physical_package_id", package) || !read_int(dir + "core_id", core)) return fallback;
        cores.insert({package, core});
    }
    return cores.empty() ? fallback : int(cores.size());
}

std::string cpu_model_name() {
    std::ifstream f("/proc/cpuinfo");
    std::string line;
    while (std::getline(f, line)) {
        if (line.rfind("model name", 0) != 0) continue;
        auto colon = line.find(':');
        if (colon == std::string::npos) break;
        auto start = line.find_first_not_of(" \t", colon + 1);
        return start == std::string::npos ? "unknown" : line.substr(start);
    }
    return "unknown";
}

}  // namespace r1::perf
