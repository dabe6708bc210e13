// Throughput of `r1 serve` with continuous batching: for each --parallel N, starts the server,
// sends C concurrent streamed chat requests of T tokens each (ignore_eos, seeded) and prints
// the generated tokens per second of wall time over all of them, and the median time to the
// first token. Plain Node (fetch), no packages.
// Usage: node bench/serve_bench.mjs R1_BIN MODEL.gguf [--parallel 1,4,8] [--clients 8] [--tokens 64] [-t THREADS]
import { spawn } from "node:child_process";

const [bin, model, ...rest] = process.argv.slice(2);
if (!bin || !model) { console.error("usage: node bench/serve_bench.mjs R1_BIN MODEL.gguf [--parallel 1,4,8] [--clients 8] [--tokens 64] [-t T]"); process.exit(1); }
const opt = (name, def) => { const i = rest.indexOf(name); return i >= 0 ? rest[i + 1] : def; };
const parallels = opt("--parallel", "1,4,8").split(",").map(Number);
const clients = Number(opt("--clients", "8")), tokens = Number(opt("--tokens", "64")), threads = opt("-t", "0");

async function start(n) {
  const proc = spawn(bin, ["serve", "-m", model, "--port", "0", "--parallel", String(n), "-t", threads, "-c", "1024"], { stdio: ["ignore", "ignore", "pipe"] });
  let err = "";
  const url = await new Promise((resolve, reject) => {
    proc.stderr.on("data", d => { err += d; const m = /on (http:\/\/[\d.]+:\d+)/.exec(err); if (m) resolve(m[1]); });
    proc.on("exit", c => reject(new Error(`r1 serve exited ${c}: ${err}`)));
  });
  return { url, stop: () => new Promise(r => { proc.on("exit", r); proc.kill("SIGTERM"); }) };
}

async function one(url, i) {
  const t0 = performance.now();
  const res = await fetch(url + "/v1/chat/completions", {
    method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ messages: [{ role: "user", content: `Request ${i}: write about the sea.` }], max_tokens: tokens,
                           ignore_eos: true, seed: i, stream: true, stream_options: { include_usage: true } }),
  });
  const reader = res.body.getReader();
  let ttft = null, buf = "", n = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    if (ttft === null) ttft = performance.now() - t0;
    buf += Buffer.from(value).toString();
  }
  const m = /"completion_tokens":(\d+)/.exec(buf);
  n = m ? Number(m[1]) : 0;
  return { n, ttft };
}

for (const p of parallels) {
  const s = await start(p);
  await one(s.url, 999);  // warm-up
  const t0 = performance.now();
  const rs = await Promise.all(Array.from({ length: clients }, (_, i) => one(s.url, i)));
  const secs = (performance.now() - t0) / 1000;
  const total = rs.reduce((a, r) => a + r.n, 0);
  const ttfts = rs.map(r => r.ttft).sort((a, b) => a - b);
  console.log(`parallel ${p}: ${clients} clients x ${tokens} tokens: ${total} tokens in ${secs.toFixed(2)} s = ${(total / secs).toFixed(1)} tok/s, median TTFT ${ttfts[ttfts.length >> 1].toFixed(0)} ms`);
  await s.stop();
}
