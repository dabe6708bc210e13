#!/usr/bin/env bash
# Builds llama.cpp's llama-bench from a source tree you point to, for the peer rows of
# bench/RESULTS.md: native (GGML_NATIVE=ON, what llama.cpp users build) or capped at an ISA, to
# compare with `r1 bench --isa` on the same machine. Nothing is downloaded; the tree is yours.
# Usage: bench/peers/build_llama_cpp.sh LLAMA_CPP_DIR [native|avx2|avx512]
# Prints the path of the llama-bench it built (LLAMA_CPP_DIR/build-r1-<isa>/bin/llama-bench).
set -euo pipefail
src="${1:?usage: $0 LLAMA_CPP_DIR [native|avx2|avx512]}"
isa="${2:-native}"
[ -f "$src/ggml/CMakeLists.txt" ] || { echo "$src: not a llama.cpp source tree (no ggml/CMakeLists.txt)" >&2; exit 1; }
case "$isa" in
  native) flags=(-DGGML_NATIVE=ON) ;;
  avx2) flags=(-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON
               -DGGML_AVX_VNNI=OFF -DGGML_AVX512=OFF -DGGML_AVX512_VBMI=OFF -DGGML_AVX512_VNNI=OFF
               -DGGML_AVX512_BF16=OFF) ;;
  avx512) flags=(-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON
                 -DGGML_AVX512=ON -DGGML_AVX512_VBMI=ON -DGGML_AVX512_VNNI=ON -DGGML_AVX512_BF16=ON) ;;
  *) echo "$isa: unknown ISA (expected native, avx2 or avx512)" >&2; exit 1 ;;
esac
out="$src/build-r1-$isa"
cmake -S "$src" -B "$out" -G Ninja -DCMAKE_BUILD_TYPE=Release -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF \
  -DLLAMA_BUILD_SERVER=OFF -DGGML_CCACHE=OFF "${flags[@]}" >&2
cmake --build "$out" --target llama-bench -j "$(nproc)" >&2
echo "$out/bin/llama-bench"
