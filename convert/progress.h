// Conversion progress on stderr: a bar redrawn in place on a terminal (tensors done/total,
// MB/s of input, ETA), plain lines at every 10% otherwise, nothing with --quiet.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace r1::convert {

class Progress {
public:
    Progress(size_t n_tensors, uint64_t total_bytes, bool quiet);
    // One tensor finished; `bytes` counts its source bytes (input).
    void tensor_done(const std::string& name, uint64_t bytes);
    void finish(const std::string& summary);

private:
    void draw(const std::string& name);

    size_t n_tensors_, done_ = 0;
    uint64_t total_bytes_, bytes_ = 0;
    bool quiet_, tty_;
    int last_decile_ = -1;
    std::chrono::steady_clock::time_point start_, last_draw_;
};

}  // namespace r1::convert
