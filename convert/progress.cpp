// Progress reporting for `r1 convert` / `r1 quantize`.
#include "convert/progress.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include <fmt/format.h>

namespace r1::convert {

Progress::Progress(size_t n_tensors, uint64_t total_bytes, bool quiet)
    : n_tensors_(n_tensors), total_bytes_(total_bytes), quiet_(quiet), tty_(isatty(STDERR_FILENO) == 1),
      start_(std::chrono::steady_clock::now()), last_draw_(start_) {}

void Progress::tensor_done(const std::string& name, uint64_t bytes) {
    ++done_;
    bytes_ += bytes;
    if (quiet_) return;
    auto now = std::chrono::steady_clock::now();
    if (tty_) {
        if (done_ == n_tensors_ || now - last_draw_ > std::chrono::milliseconds(100)) {
            draw(name);
            last_draw_ = now;
        }
        return;
    }
    int decile = n_tensors_ ? static_cast<int>(done_ * 10 / n_tensors_) : 10;
    if (decile != last_decile_) {
        last_decile_ = decile;
        double s = std::chrono::duration<double>(now - start_).count();
        std::fprintf(stderr, "%s\n", fmt::format("convert: {}/{} tensors, {:.1f} MB, {:.1f} s", done_, n_tensors_,
                                                 bytes_ / 1e6, s).c_str());
    }
}

void Progress::draw(const std::string& name) {
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    double frac = total_bytes_ ? static_cast<double>(bytes_) / static_cast<double>(total_bytes_)
                               : static_cast<double>(done_) / static_cast<double>(std::max<size_t>(n_tensors_, 1));
    double mbs = s > 0 ? bytes_ / 1e6 / s : 0.0;
    double eta = frac > 0 ? s * (1 - frac) / frac : 0.0;
    constexpr int kWidth = 30;
    int filled = static_cast<int>(frac * kWidth);
    std::string bar(static_cast<size_t>(std::clamp(filled, 0, kWidth)), '#');
    bar.resize(kWidth, ' ');
    std::string shown = name.size() > 28 ? name.substr(0, 28) : name;
    std::fprintf(stderr, "\r\033[K[%s] %zu/%zu %6.1f MB/s ETA %3d:%02d %s", bar.c_str(), done_, n_tensors_, mbs,
                 static_cast<int>(eta) / 60, static_cast<int>(eta) % 60, shown.c_str());
    std::fflush(stderr);
}

void Progress::finish(const std::string& summary) {
    if (quiet_) return;
    if (tty_) std::fprintf(stderr, "\r\033[K");
    std::fprintf(stderr, "%s\n", summary.c_str());
}

}  // namespace r1::convert
