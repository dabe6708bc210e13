// Loads GGUF files written by `r1 convert` in llama.cpp (node-llama-cpp, see llama_cpp_bench.mjs
// for the install) and checks its greedy continuations against the fixtures' goldens: an
// independent reader and runtime agreeing with ours on the files we write.
//   node llama_cpp_check.mjs FILE.gguf <fixture model dir>/goldens/prompts.json
import {getLlama} from "node-llama-cpp";
import {readFileSync} from "node:fs";
const [modelPath, promptsPath] = process.argv.slice(2);
const golden = JSON.parse(readFileSync(promptsPath, "utf8"));
const llama = await getLlama({gpu: false, build: "never", logLevel: "error"});
const model = await llama.loadModel({modelPath, gpuLayers: 0});
let failed = 0;
for (const p of golden.prompts) {
  if (!p.greedy) continue;
  const ctx = await model.createContext({contextSize: 256, threads: 1});
  const seq = ctx.getSequence();
  const got = [];
  for await (const t of seq.evaluate(p.ids, {temperature: 0})) {
    got.push(t);
    if (got.length >= p.greedy.ids.length) break;
  }
  let same = 0;
  while (same < got.length && got[same] === p.greedy.ids[same]) ++same;
  console.log(`${p.name}: ${same}/${p.greedy.ids.length} greedy tokens match`);
  if (same !== p.greedy.ids.length) failed = 1;
  await ctx.dispose();
}
process.exit(failed);
