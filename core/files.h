// Reading inputs and writing outputs the same way in every command. Inputs are read in bounded
// chunks up to a documented cap (st_size is not trusted: devices and FIFOs report 0), so
// /dev/zero or an endless pipe is refused, not buffered. Outputs go through OutputFile: a new
// path or a regular file is written as <path>.tmp and renamed on commit (never a partial file);
// a device, FIFO or /dev/stdout is written through, never replaced by a regular file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace r1 {

// Caps on what a user hands us (README "Input limits"). Each one sits far above real inputs
// (a 32K-token prompt is ~128 KiB; DeepSeek-V3's tokenizer.json is 7.5 MiB) and far below
// what would strain memory, so an endless input (/dev/zero, a pipe) ends in one error line.
inline constexpr size_t kMaxPromptFileBytes = size_t(64) << 20;   // -f prompt/perplexity/tokenize text, a chat line
inline constexpr size_t kMaxMessagesBytes = size_t(16) << 20;     // --messages, --tools, --kwargs
inline constexpr size_t kMaxConfigFileBytes = size_t(64) << 20;   // config.json, index, tokenizer files
inline constexpr size_t kMaxTemplateFileBytes = size_t(1) << 20;  // chat_template.jinja

// Reads the whole file (or standard input for "-" when allow_stdin) with at most max_bytes.
// `label` prefixes every error: "-f" gives "-f /dev/zero: larger than the 64 MiB limit...".
// Directories, missing files and read errors are one r1::Error naming the path.
std::string read_input_file(const std::string& path, size_t max_bytes, std::string_view label = {},
                            bool allow_stdin = false);

// "64 MiB", "1 MiB", "512 bytes": how a cap is printed.
std::string size_text(uint64_t bytes);

// An output file written in one pass and committed at the end. Errors name `label path`.
class OutputFile {
public:
    explicit OutputFile(std::filesystem::path path, std::string label = {});
    ~OutputFile();  // removes the temporary file if commit() did not run
    OutputFile(const OutputFile&) = delete;
    OutputFile& operator=(const OutputFile&) = delete;

    void write(const void* data, size_t n);
    // Flushes, fsyncs a regular file, closes, and renames the temporary file into place.
    void commit();
    uint64_t bytes_written() const { return pos_; }
    // True when the path is a device, FIFO or an alias of an open descriptor (/dev/stdout).
    bool writes_through() const { return tmp_.empty(); }
    // Where the bytes go until commit(): <path>.tmp, or the path itself when written through.
    const std::filesystem::path& temp_path() const { return tmp_.empty() ? path_ : tmp_; }

private:
    void flush();
    [[noreturn]] void fail_io(std::string_view what, int err);
    void discard();

    std::filesystem::path path_;   // as the user gave it (messages)
    std::filesystem::path final_;  // where the rename goes (a symlink to a regular file is followed)
    std::filesystem::path tmp_;    // empty when written through
    std::string label_;
    int fd_ = -1;
    std::vector<char> buf_;
    size_t used_ = 0;
    uint64_t pos_ = 0;
    bool committed_ = false;
};

}  // namespace r1
