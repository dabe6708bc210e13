// Bounded input reads and OutputFile (see files.h): POSIX descriptors, so a FIFO, a device and
// a regular file follow one path and every error carries errno's text and the file's name.
#include "core/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <optional>

#include "core/error.h"

namespace r1 {

namespace {

std::string named(std::string_view label, const std::string& path) {
    return label.empty() ? path : fmt::format("{} {}", label, path);
}

// /dev/stdout, /dev/stderr, /dev/fd/N and /proc/self/fd/N name a descriptor this process has
// open; opening them anew would not share its offset, and renaming over them would replace a
// link in /dev. Follows a chain of symlinks (a private link to /dev/stdout counts too).
std::optional<int> descriptor_alias(const std::string& path) {
    std::string p = path;
    for (int hop = 0; hop < 40; ++hop) {
        if (p == "/dev/stdout") return 1;
        if (p == "/dev/stderr") return 2;
        for (std::string_view prefix : {"/dev/fd/", "/proc/self/fd/"}) {
            if (!p.starts_with(prefix) || p.size() == prefix.size() || p.size() > prefix.size() + 6) continue;
            const std::string_view digits = std::string_view(p).substr(prefix.size());
            if (digits.find_first_not_of("0123456789") == std::string_view::npos) return std::stoi(std::string(digits));
        }
        char target[PATH_MAX];
        const ssize_t n = ::readlink(p.c_str(), target, sizeof target);
        if (n <= 0 || size_t(n) >= sizeof target) return std::nullopt;
        std::filesystem::path t(std::string(target, size_t(n)));
        if (t.is_relative()) t = std::filesystem::path(p).parent_path() / t;
        p = t.lexically_normal().string();
    }
    return std::nullopt;
}

}  // namespace

std::string size_text(uint64_t bytes) {
    if (bytes >= (1u << 20) && bytes % (1u << 20) == 0) return fmt::format("{} MiB", bytes >> 20);
    if (bytes >= (1u << 10) && bytes % (1u << 10) == 0) return fmt::format("{} KiB", bytes >> 10);
    return fmt::format("{} bytes", bytes);
}

std::string read_input_file(const std::string& path, size_t max_bytes, std::string_view label, bool allow_stdin) {
    const std::string name = named(label, path);
    if (path.empty()) fail("{}: no file name given", label.empty() ? std::string_view("input") : label);
    const bool from_stdin = allow_stdin && path == "-";
    const int fd = from_stdin ? STDIN_FILENO : ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) fail("{}: cannot open: {}", name, std::strerror(errno));
    struct Closer {
        int fd;
        bool own;
        ~Closer() {
            if (own) ::close(fd);
        }
    } closer{fd, !from_stdin};
    struct stat st = {};
    if (::fstat(fd, &st) != 0) fail("{}: cannot stat: {}", name, std::strerror(errno));
    if (S_ISDIR(st.st_mode)) fail("{}: is a directory, not a file", name);
    // A regular file's size is a hint only (it may grow while read); the loop enforces the cap.
    if (S_ISREG(st.st_mode) && uint64_t(st.st_size) > max_bytes)
        fail("{}: {} bytes, larger than the {} limit for this input", name, uint64_t(st.st_size), size_text(max_bytes));
    std::string out;
    if (S_ISREG(st.st_mode)) out.reserve(size_t(st.st_size) + 1);
    constexpr size_t kChunk = size_t(1) << 16;
    for (;;) {
        const size_t at = out.size();
        const size_t want = std::min(kChunk, max_bytes + 1 - at);  // one byte past the cap detects "too large"
        out.resize(at + want);
        const ssize_t n = ::read(fd, out.data() + at, want);
        if (n < 0 && errno == EINTR) {
            out.resize(at);
            continue;
        }
        if (n < 0) fail("{}: read error: {}", name, std::strerror(errno));
        out.resize(at + size_t(n));
        if (n == 0) break;
        if (out.size() > max_bytes)
            fail("{}: larger than the {} limit for this input (endless input such as /dev/zero or a pipe?)", name,
                 size_text(max_bytes));
    }
    return out;
}

OutputFile::OutputFile(std::filesystem::path path, std::string label)
    : path_(std::move(path)), label_(std::move(label)) {
    const std::string name = named(label_, path_.string());
    if (path_.empty()) fail("{}: no output file given", label_.empty() ? std::string("output") : label_);
    buf_.resize(size_t(1) << 20);
    if (auto alias = descriptor_alias(path_.string())) {
        fd_ = ::fcntl(*alias, F_DUPFD_CLOEXEC, 0);
        if (fd_ < 0) fail("{}: cannot write: {}", name, std::strerror(errno));
        return;
    }
    struct stat st = {};
    if (::stat(path_.c_str(), &st) == 0) {
        if (S_ISDIR(st.st_mode)) fail("{}: is a directory", name);
        if (!S_ISREG(st.st_mode)) {  // a device or FIFO (or a link to one): write through it
            fd_ = ::open(path_.c_str(), O_WRONLY | O_CLOEXEC | O_NOCTTY);
            if (fd_ < 0) fail("{}: cannot open for writing: {}", name, std::strerror(errno));
            return;
        }
        // A symlink to a regular file stays a symlink: the file it names is replaced.
        std::error_code ec;
        final_ = std::filesystem::canonical(path_, ec);
        if (ec) fail("{}: {}", name, ec.message());
    } else if (errno == ENOENT) {
        final_ = path_;
    } else {
        fail("{}: {}", name, std::strerror(errno));
    }
    tmp_ = final_;
    tmp_ += ".tmp";
    if (::unlink(tmp_.c_str()) != 0 && errno != ENOENT && errno != EISDIR)
        fail("{}: cannot remove the stale {}: {}", name, tmp_.string(), std::strerror(errno));
    fd_ = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd_ < 0) {
        const int err = errno;
        tmp_.clear();  // not ours: never removed
        fail("{}: cannot create {}.tmp: {}", name, final_.string(), std::strerror(err));
    }
}

OutputFile::~OutputFile() {
    if (!committed_) discard();
}

void OutputFile::discard() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    if (!tmp_.empty()) ::unlink(tmp_.c_str());
}

void OutputFile::fail_io(std::string_view what, int err) {
    discard();
    committed_ = true;  // nothing left to clean up
    fail("{}: {}: {}", named(label_, path_.string()), what, std::strerror(err));
}

void OutputFile::flush() {
    size_t done = 0;
    while (done < used_) {
        const ssize_t n = ::write(fd_, buf_.data() + done, used_ - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) fail_io("write failed", errno);
        if (n == 0) fail_io("write failed", ENOSPC);
        done += size_t(n);
    }
    used_ = 0;
}

void OutputFile::write(const void* data, size_t n) {
    R1_CHECK(fd_ >= 0 && !committed_);
    const char* p = static_cast<const char*>(data);
    while (n > 0) {
        const size_t k = std::min(n, buf_.size() - used_);
        std::memcpy(buf_.data() + used_, p, k);
        used_ += k, p += k, n -= k, pos_ += k;
        if (used_ == buf_.size()) flush();
    }
}

void OutputFile::commit() {
    R1_CHECK(!committed_);
    flush();
    // A device or pipe may not support fsync (EINVAL); a regular file must reach the disk.
    if (::fsync(fd_) != 0 && (!tmp_.empty() || (errno != EINVAL && errno != EROFS && errno != ENOTSUP)))
        fail_io("write failed", errno);
    const int rc = ::close(fd_);
    fd_ = -1;
    if (rc != 0) fail_io("close failed", errno);
    if (!tmp_.empty() && ::rename(tmp_.c_str(), final_.c_str()) != 0) {
        const int err = errno;
        fail_io(fmt::format("cannot rename {} into place", tmp_.string()), err);
    }
    committed_ = true;
}

}  // namespace r1
