// Our logits against llama.cpp's on the same GGUF file and tokens, for model shapes without a
// golden fixture (issue 14: deepseek2 without q LoRA, attn_kv_b-only files, softmax routing):
// top-1 agreement and mean KL(llama.cpp || r1) over every scored position. llama.cpp comes
// from npm (node-llama-cpp, install as in llama_cpp_bench.mjs); nothing here ships with r1.
//   r1 perplexity -m FILE.gguf -f TEXT -c 128 --chunks 3 -t 1 --save-logits ours.r1lg
//   node llama_cpp_logits_check.mjs FILE.gguf ours.r1lg [max mean KL, default 1e-3]
// The logits file (cli/cmd_perplexity.cpp): "R1LG", version 1, n_vocab, n_ctx, n_chunks,
// variant (0 only: chunk tokens 0..n_ctx-2 in, the next token scored), the chunks' tokens, then
// n_ctx-1 rows of n_vocab float32 per chunk. Exit 1 when the bound or 97% top-1 is missed.
import {getLlama} from 'node-llama-cpp';
import {readFileSync} from 'node:fs';

const [modelPath, oursPath, maxKlArg = '1e-3'] = process.argv.slice(2);
const buf = readFileSync(oursPath);
if (buf.toString('latin1', 0, 4) !== 'R1LG') throw new Error(`${oursPath}: not an r1 logits file`);
const [version, nVocab, nCtx, nChunks, variant] =
    Array.from({length: 5}, (_, i) => buf.readUInt32LE(4 + 4 * i));
if (version !== 1 || variant !== 0)
    throw new Error(`${oursPath}: version ${version} variant ${variant} (want 1, 0)`);
const tokens =
    new Int32Array(buf.buffer.slice(buf.byteOffset + 24, buf.byteOffset + 24 + nChunks * nCtx * 4));
const rows = new Float32Array(buf.buffer.slice(buf.byteOffset + 24 + nChunks * nCtx * 4));
if (rows.length !== nChunks * (nCtx - 1) * nVocab)
    throw new Error(`${oursPath}: ${rows.length} floats, want ${nChunks * (nCtx - 1) * nVocab}`);

const llama = await getLlama({gpu: false, build: 'never', logLevel: 'error'});
const model = await llama.loadModel({modelPath, gpuLayers: 0});

// log-softmax of a row in float64
function logSoftmax(get, n) {
    let mx = -Infinity;
    for (let i = 0; i < n; ++i) mx = Math.max(mx, get(i));
    let s = 0;
    for (let i = 0; i < n; ++i) s += Math.exp(get(i) - mx);
    const lse = mx + Math.log(s);
    const out = new Float64Array(n);
    for (let i = 0; i < n; ++i) out[i] = get(i) - lse;
    return out;
}
const argmax = a => a.reduce((b, x, i) => (x > a[b] ? i : b), 0);

let klSum = 0, klMax = 0, same = 0, n = 0;
for (let c = 0; c < nChunks; ++c) {
    const ctx = await model.createContext({contextSize: nCtx, batchSize: nCtx, threads: 1});
    const seq = ctx.getSequence();
    const input = [];
    for (let t = 0; t < nCtx - 1; ++t)
        input.push([tokens[c * nCtx + t], {generateNext: {logits: true}}]);
    const out = await seq.controlledEvaluate(input);
    for (let t = 0; t < nCtx - 1; ++t) {
        const logits = out[t]?.next?.logits;  // Map<token, logit>
        if (!logits) throw new Error(`chunk ${c} position ${t}: no logits from llama.cpp`);
        const ref = new Float64Array(nVocab).fill(-Infinity);
        for (const [tok, v] of logits)
            if (tok < nVocab) ref[tok] = v;
        const base = (c * (nCtx - 1) + t) * nVocab;
        const p = logSoftmax(i => ref[i], nVocab), q = logSoftmax(i => rows[base + i], nVocab);
        let kl = 0;
        for (let i = 0; i < nVocab; ++i)
            if (p[i] > -Infinity) kl += Math.exp(p[i]) * (p[i] - q[i]);
        klSum += kl, klMax = Math.max(klMax, kl), ++n;
        same += argmax(p) === argmax(q);
    }
    await ctx.dispose();
}
const meanKl = klSum / n;
console.log(JSON.stringify(
    {model: modelPath, positions: n, top1_agreement: same / n, mean_kl: meanKl, max_kl: klMax}));
process.exit(meanKl <= +maxKlArg && same / n >= 0.97 ? 0 : 1);
