// SentencePiece ModelProto reader (field numbers from sentencepiece_model.proto):
// ModelProto{1: repeated SentencePiece{1 piece, 2 score, 3 type}, 2: TrainerSpec{3 model_type,
// 35 byte_fallback, 40 unk_id, 41 bos_id, 42 eos_id, 43 pad_id}, 3: NormalizerSpec{1 name,
// 2 precompiled_charsmap, 3 add_dummy_prefix, 4 remove_extra_whitespaces}}.
#include "runtime/tokenizer/spm_model.h"

#include <cstring>

#include "runtime/tokenizer/unicode.h"
#include "runtime/tokenizer/vocab.h"

namespace r1::tokenizer {

namespace {

constexpr size_t kMaxPiece = 64 << 10;
constexpr size_t kMaxPieces = 16 << 20;

struct Field {
    uint32_t number = 0;
    uint32_t wire = 0;
    uint64_t varint = 0;     // wire 0
    uint32_t fixed32 = 0;    // wire 5
    std::string_view bytes;  // wire 2
};

class PbReader {
public:
    PbReader(std::string_view b, const std::string& src, const char* what)
        : p_(b), src_(src), what_(what) {}
    bool done() const { return pos_ >= p_.size(); }

    Field next() {
        Field f;
        uint64_t key = varint();
        f.number = static_cast<uint32_t>(key >> 3);
        f.wire = static_cast<uint32_t>(key & 7);
        if (f.number == 0 || key >> 32) bad("invalid field key");
        switch (f.wire) {
            case 0: f.varint = varint(); break;
            case 1: need(8); pos_ += 8; break;
            case 2: {
                uint64_t len = varint();
                need(len);
                f.bytes = p_.substr(pos_, static_cast<size_t>(len));
                pos_ += static_cast<size_t>(len);
                break;
            }
            case 5: need(4); std::memcpy(&f.fixed32, p_.data() + pos_, 4); pos_ += 4; break;
            default: bad(fmt::format("unsupported wire type {} (field {})", f.wire, f.number));
        }
        return f;
    }

    [[noreturn]] void bad(const std::string& why) const {
        throw TokenizerError(ErrorCode::SpmModel,
                             fmt::format("{}: not a valid SentencePiece model ({} at byte {}: {})", src_,
                                         what_, pos_, why));
    }

private:
    uint64_t varint() {
        uint64_t v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            need(1);
            auto b = static_cast<unsigned char>(p_[pos_++]);
            v |= static_cast<uint64_t>(b & 0x7F) << shift;
            if (!(b & 0x80)) return v;
        }
        bad("varint longer than 10 bytes");
    }
    void need(uint64_t n) const {
        if (n > p_.size() - pos_) bad("truncated");
    }

    std::string_view p_;
    size_t pos_ = 0;
    const std::string& src_;
    const char* what_;
};

int32_t as_int32(const Field& f) { return static_cast<int32_t>(static_cast<uint32_t>(f.varint)); }

}  // namespace

SpmModel parse_spm_model(std::string_view bytes, const std::string& source) {
    SpmModel m;
    PbReader top(bytes, source, "ModelProto");
    if (bytes.empty()) top.bad("empty file");
    while (!top.done()) {
        Field f = top.next();
        if (f.number == 1 && f.wire == 2) {
            if (m.pieces.size() >= kMaxPieces) top.bad("too many pieces");
            PbReader r(f.bytes, source, "SentencePiece");
            std::string piece;
            float score = 0.0f;
            int32_t type = 1;
            bool has_piece = false;
            while (!r.done()) {
                Field g = r.next();
                if (g.number == 1 && g.wire == 2) {
                    if (g.bytes.size() > kMaxPiece) r.bad(fmt::format("piece of {} bytes", g.bytes.size()));
                    piece = std::string(g.bytes);
                    has_piece = true;
                } else if (g.number == 2 && g.wire == 5) {
                    std::memcpy(&score, &g.fixed32, 4);
                } else if (g.number == 3 && g.wire == 0) {
                    type = as_int32(g);
                }
            }
            const size_t id = m.pieces.size();
            if (!has_piece || piece.empty()) r.bad(fmt::format("piece {} is empty", id));
            if (piece.find('\0') != std::string::npos) r.bad(fmt::format("piece {} contains NUL", id));
            if (!is_valid_utf8(piece)) r.bad(fmt::format("piece {} is not valid UTF-8", id));
            if (type < 1 || type > 6) r.bad(fmt::format("piece {} has unknown type {}", id, type));
            m.pieces.push_back(std::move(piece));
            m.scores.push_back(score);
            m.types.push_back(type);
        } else if (f.number == 2 && f.wire == 2) {
            PbReader r(f.bytes, source, "TrainerSpec");
            while (!r.done()) {
                Field g = r.next();
                if (g.wire != 0) continue;
                switch (g.number) {
                    case 3: m.model_type = as_int32(g); break;
                    case 35: m.byte_fallback = g.varint != 0; break;
                    case 40: m.unk_id = as_int32(g); break;
                    case 41: m.bos_id = as_int32(g); break;
                    case 42: m.eos_id = as_int32(g); break;
                    case 43: m.pad_id = as_int32(g); break;
                    default: break;
                }
            }
        } else if (f.number == 3 && f.wire == 2) {
            PbReader r(f.bytes, source, "NormalizerSpec");
            while (!r.done()) {
                Field g = r.next();
                if (g.number == 1 && g.wire == 2) m.normalizer_name = std::string(g.bytes);
                else if (g.number == 2 && g.wire == 2) m.precompiled_charsmap_size = g.bytes.size();
                else if (g.number == 3 && g.wire == 0) m.add_dummy_prefix = g.varint != 0;
                else if (g.number == 4 && g.wire == 0) m.remove_extra_whitespaces = g.varint != 0;
            }
        }
    }
    if (m.pieces.empty()) top.bad("no pieces");
    if (m.model_type != 2)
        throw TokenizerError(ErrorCode::SpmModel,
                             fmt::format("{}: SentencePiece model type {} is not supported (only BPE = 2)",
                                         source, m.model_type));
    if (m.precompiled_charsmap_size != 0 && m.normalizer_name != "identity")
        throw TokenizerError(ErrorCode::SpmModel,
                             fmt::format("{}: SentencePiece normalizer '{}' is not supported (identity only)",
                                         source, m.normalizer_name));
    return m;
}

}  // namespace r1::tokenizer
