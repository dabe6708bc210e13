// Ordered parallel production of tensor slices (see stream.h).
#include "convert/stream.h"

#include <atomic>
#include <condition_variable>
#include <csignal>
#include <exception>
#include <map>
#include <mutex>
#include <thread>

#include "convert/encode.h"

namespace r1::convert {

namespace {

std::atomic<int> g_signal{0};

extern "C" void on_signal(int sig) { g_signal.store(sig); }

// Installs SIGINT/SIGTERM handlers for the lifetime of a conversion; the main loop polls the
// flag, throws, and the writer's destructor removes the temporary file.
class SignalGuard {
public:
    SignalGuard() {
        g_signal.store(0);
        struct sigaction sa {};
        sa.sa_handler = on_signal;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, &old_int_);
        sigaction(SIGTERM, &sa, &old_term_);
    }
    ~SignalGuard() {
        sigaction(SIGINT, &old_int_, nullptr);
        sigaction(SIGTERM, &old_term_, nullptr);
    }

private:
    struct sigaction old_int_ {}, old_term_ {};
};

struct Slice {
    size_t tensor;
    int64_t r0, n;
    bool last_of_tensor;
};

}  // namespace

int default_threads() {
    unsigned n = std::thread::hardware_concurrency();
    return n ? static_cast<int>(std::min(n, 32u)) : 1;
}

void stream_tensors(gguf::Writer& w, const std::vector<StreamTensor>& tensors, int threads, Progress& progress) {
    SignalGuard guard;
    std::vector<Slice> slices;
    for (size_t i = 0; i < tensors.size(); ++i) {
        const StreamTensor& t = tensors[i];
        int64_t per = std::max<int64_t>(1, kSliceElements / std::max<int64_t>(t.row_length, 1));
        per = (per + t.row_align - 1) / t.row_align * t.row_align;
        if (t.n_rows == 0) slices.push_back({i, 0, 0, true});
        for (int64_t r = 0; r < t.n_rows; r += per)
            slices.push_back({i, r, std::min(per, t.n_rows - r), r + per >= t.n_rows});
    }
    threads = std::max(1, threads);
    const size_t window = 2 * static_cast<size_t>(threads);

    std::mutex m;
    std::condition_variable cv;
    size_t next = 0, written = 0;
    std::map<size_t, std::vector<uint8_t>> ready;
    std::exception_ptr error;
    bool stop = false;

    auto work = [&] {
        std::vector<float> f32;
        for (;;) {
            size_t i;
            {
                std::unique_lock lk(m);
                cv.wait(lk, [&] { return stop || next >= slices.size() || next < written + window; });
                if (stop || next >= slices.size()) return;
                i = next++;
            }
            try {
                const Slice& s = slices[i];
                const StreamTensor& t = tensors[s.tensor];
                std::vector<uint8_t> bytes(static_cast<size_t>(s.n) * row_bytes(t.type, static_cast<uint64_t>(t.row_length)));
                if (s.n > 0 && t.produce_bytes) {
                    t.produce_bytes(s.r0, s.n, bytes.data());
                } else if (s.n > 0) {
                    f32.resize(static_cast<size_t>(s.n * t.row_length));
                    t.produce(s.r0, s.n, f32.data());
                    encode_rows(t.type, f32.data(), s.n, t.row_length, bytes.data());
                }
                std::lock_guard lk(m);
                ready.emplace(i, std::move(bytes));
            } catch (...) {
                std::lock_guard lk(m);
                if (!error) error = std::current_exception();
                stop = true;
            }
            cv.notify_all();
        }
    };
    std::vector<std::thread> pool;
    for (int k = 0; k < threads; ++k) pool.emplace_back(work);
    auto shutdown = [&] {
        {
            std::lock_guard lk(m);
            stop = true;
        }
        cv.notify_all();
        for (auto& th : pool) th.join();
    };

    try {
        for (size_t i = 0; i < slices.size(); ++i) {
            std::vector<uint8_t> bytes;
            {
                std::unique_lock lk(m);
                while (!ready.count(i) && !error) {
                    if (g_signal.load()) break;
                    cv.wait_for(lk, std::chrono::milliseconds(50));
                }
                if (error) std::rethrow_exception(error);
                if (g_signal.load()) fail("{}: interrupted by signal {}", w.tmp_path().string(), g_signal.load());
                bytes = std::move(ready[i]);
                ready.erase(i);
                written = i + 1;
            }
            cv.notify_all();
            w.write(bytes);
            const Slice& s = slices[i];
            if (s.last_of_tensor) progress.tensor_done(tensors[s.tensor].name, tensors[s.tensor].source_bytes);
        }
        if (g_signal.load()) fail("{}: interrupted by signal {}", w.tmp_path().string(), g_signal.load());
    } catch (...) {
        shutdown();
        throw;
    }
    shutdown();
}

}  // namespace r1::convert
