// llama.cpp on the same GGUF files as `r1 bench`, for bench/RESULTS.md: pp512 (one 512-token
// batch from an empty context) then tg128 (128 greedy tokens), one warm-up, median of REPS.
// llama.cpp comes from npm (node-llama-cpp's prebuilt CPU libraries, with a Zen 4 build of
// ggml-cpu picked at run time); nothing here is built or shipped with r1:
//   mkdir /tmp/peer && cd /tmp/peer && npm install --ignore-scripts node-llama-cpp@3.22.1
//   cp <repo>/bench/peers/llama_cpp_bench.mjs . && node llama_cpp_bench.mjs FILE.gguf THREADS REPS
// tg includes node-llama-cpp's per-token JavaScript (greedy sampling), well under 1% of a token.
import {getLlama} from "node-llama-cpp";
const [modelPath, threads = "2", reps = "3"] = process.argv.slice(2);
const llama = await getLlama({gpu: false, build: "never", logLevel: "warn"});
const model = await llama.loadModel({modelPath, gpuLayers: 0, useMmap: true});
const med = a => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
const pp = [], tg = [];
for (let r = 0; r <= +reps; ++r) {
  const ctx = await model.createContext({contextSize: 1024, batchSize: 512, threads: +threads, flashAttention: false});
  const seq = ctx.getSequence();
  const toks = Array.from({length: 512}, (_, i) => 1000 + (i * 7919) % 50000);
  let t0 = performance.now();
  await seq.evaluateWithoutGeneratingNewTokens(toks);
  const ppr = 512 / ((performance.now() - t0) / 1000);
  let n = 0;
  t0 = performance.now();
  for await (const t of seq.evaluate([1234], {temperature: 0})) { if (++n >= 128) break; }
  const tgr = 128 / ((performance.now() - t0) / 1000);
  if (r > 0) { pp.push(ppr); tg.push(tgr); }  // r = 0 is the warm-up
  await ctx.dispose();
}
console.log(JSON.stringify({model: modelPath, threads: +threads, pp512: med(pp), tg128: med(tg), pp, tg}));
