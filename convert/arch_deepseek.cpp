// deepseek_v3 / deepseek_v2 -> GGUF deepseek2 (GGUF.md §3.5).
#include "convert/plan.h"

namespace r1::convert {

Plan build_plan_deepseek(const Checkpoint& /*ck*/) {
    fail("config.json: model_type deepseek_v3 is not converted yet");
}

}  // namespace r1::convert
