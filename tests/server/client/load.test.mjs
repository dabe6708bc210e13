// Load on r1 serve (run it against the asan build for the sanitizer half): 64 concurrent
// streams of which a third disconnect mid-stream, with a burst of malformed requests between
// them. Afterwards every slot is free, nothing is queued, RSS is back near where it started,
// and the server exits 0 on SIGTERM (under ASan: no leak report).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import { tinyModel, startServer, call } from "./harness.mjs";

let srv;
before(async () => { srv = await startServer(tinyModel(), ["--parallel", "4", "-c", "256"]); });
after(async () => {
  if (!srv) return;
  const r = await srv.stop();
  assert.equal(r.code, 0, "exit status on SIGTERM: " + srv.stderr().slice(-2000));
});

const rssKiB = pid => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))[1]);

async function stream(i, disconnect) {
  const ctl = new AbortController();
  const res = await fetch(srv.base + "/chat/completions", {
    method: "POST", signal: ctl.signal, headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ messages: [{ role: "user", content: `Load ${i}` }], max_tokens: 16 + (i % 4) * 8,
                           seed: i, stream: true, ignore_eos: true }),
  });
  if (res.status !== 200) return res.status;  // (a fetch that fails outright throws: reported with its cause below)
  const reader = res.body.getReader();
  let text = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    text += Buffer.from(value).toString();
    if (disconnect && text.includes("reasoning_content")) { ctl.abort(); return "aborted"; }
  }
  assert.ok(text.trimEnd().endsWith("data: [DONE]"), text.slice(-200));
  return 200;
}

function malformed(i) {
  const bodies = [
    "{", "[]", "null", "\"x\"", "{\"messages\":[{\"role\":\"user\",\"content\":\"\\udc00\"}]}",
    "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":1e300}",
    "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"stop\":{}}", "[".repeat(100000),
    Buffer.from([0xff, 0xfe, 0x00, 0x7b]).toString("latin1"), "{\"messages\":[{\"role\":\"user\"}],\"n\":-1}",
  ];
  return call(srv.base + "/chat/completions", { body: bodies[i % bodies.length] }).then(r => r.status);
}

test("64 streams (a third disconnect) and a malformed burst leave the server clean", async () => {
  // Warm up (model pages, caches, thread pool) before measuring the starting RSS.
  for (let i = 0; i < 4; ++i) await stream(1000 + i, false);
  const rss0 = rssKiB(srv.pid);
  for (let round = 0; round < 2; ++round) {
    const jobs = [];
    for (let i = 0; i < 64; ++i) {
      jobs.push(stream(i, i % 3 === 0));
      if (i % 4 === 0) jobs.push(malformed(i / 4 + round));
    }
    const results = await Promise.all(jobs.map(j => j.catch(e => `${e.message}: ${e.cause?.code || e.cause?.message || e.cause}`)));
    const bad = results.filter(s => s !== 200 && s !== "aborted" && s !== 400);
    assert.deepEqual(bad, [], "only 200, aborted, and 400 for the malformed ones");
    assert.equal(results.filter(s => s === 400).length, 16);
  }
  let m = "";
  for (let i = 0; i < 50; ++i) {
    m = (await call(srv.url + "/metrics", { method: "GET" })).text;
    if (/^r1_slots_busy 0$/m.test(m) && /^r1_requests_queued 0$/m.test(m)) break;
    await new Promise(r => setTimeout(r, 100));
  }
  assert.match(m, /^r1_slots_busy 0$/m);
  assert.match(m, /^r1_requests_queued 0$/m);
  const rss1 = rssKiB(srv.pid);
  assert.ok(rss1 < rss0 * 1.5 + 32 * 1024, `RSS ${rss0} KiB at the start, ${rss1} KiB at the end`);
  assert.equal((await call(srv.url + "/health", { method: "GET" })).status, 200);
});
