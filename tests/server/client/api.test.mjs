// r1 serve through the official openai npm client, against the tiny fixture model: the
// reasoning split, usage counts against the tokenizer, stop strings, greedy text equal to
// `r1 run`, 16 concurrent streams equal to the same requests one at a time, and the 4xx/5xx
// answers for bad input (RELIABILITY.md server cases).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import OpenAI from "openai";
import { tinyModel, startServer, r1, writeTemp, call, splitR1, generatedCount } from "./harness.mjs";

let model, srv, client;
const servers = [];
async function server(extra) {
  const s = await startServer(model, extra);
  servers.push(s);
  return s;
}

before(async () => {
  model = tinyModel();
  srv = await server(["--parallel", "2"]);
  client = new OpenAI({ baseURL: srv.base, apiKey: "unused", maxRetries: 0 });
});

after(async () => {
  for (const s of servers) {
    const r = await s.stop();
    assert.equal(r.code, 0, "r1 serve should exit 0 on SIGTERM: " + s.stderr());
  }
});

const QUESTION = "What is two plus two?";

test("non-stream chat: reasoning_content apart, usage equal to the tokenizer's, text equal to r1 run", async () => {
  const r = await client.chat.completions.create({
    messages: [{ role: "user", content: QUESTION }], temperature: 0, max_tokens: 48,
  }).catch(e => { throw new Error(e.message); });
  const msg = r.choices[0].message;
  assert.ok(msg.reasoning_content.length > 0, "reasoning_content present");
  assert.ok(!msg.content.includes("<think>") && !msg.content.includes("</think>"), "content free of think tags");
  assert.ok(!msg.reasoning_content.includes("<think>"), "reasoning free of the open tag");
  assert.equal(r.choices[0].finish_reason, "length");

  // The same prompt through `r1 template` + `r1 tokenize`, and the same generation through `r1 run`.
  const msgs = writeTemp("msgs.json", JSON.stringify([{ role: "user", content: QUESTION }]));
  const rendered = r1(["template", "-m", model, "--messages", msgs, "--add-generation-prompt"]).out;
  const ids = r1(["tokenize", "-m", model, "-f", writeTemp("prompt.txt", rendered), "--no-bos"]).out.trim().split(/\s+/);
  assert.equal(r.usage.prompt_tokens, ids.length);
  const run = r1(["run", "-m", model, "--chat", "-p", QUESTION, "--temp", "0", "-n", "48", "-t", "1"]);
  assert.equal(r.usage.completion_tokens, generatedCount(run.err));
  assert.equal(r.usage.total_tokens, r.usage.prompt_tokens + r.usage.completion_tokens);
  const want = splitR1(run.out);
  assert.equal(msg.reasoning_content, want.reasoning);
  assert.equal(msg.content, want.content);
});

test("models: the served id, and a request naming another model is 404", async () => {
  const list = await client.models.list();
  const ids = list.data.map(m => m.id);
  assert.deepEqual(ids, ["tiny-r1-qwen2.gguf"]);
  const r = await client.chat.completions.create({ model: ids[0], messages: [{ role: "user", content: "hi" }], max_tokens: 2 });
  assert.equal(r.model, ids[0]);
  await assert.rejects(
    client.chat.completions.create({ model: "gpt-4o", messages: [{ role: "user", content: "hi" }], max_tokens: 2 }),
    e => e.status === 404 && /gpt-4o/.test(e.message));
});

test("stream chat: delta chunks add up to the non-stream answer; last chunk has finish_reason and usage", async () => {
  const req = { messages: [{ role: "system", content: "Be brief." }, { role: "user", content: QUESTION }], temperature: 0.7, seed: 11, max_tokens: 40 };
  const whole = await client.chat.completions.create(req);
  const stream = await client.chat.completions.create({ ...req, stream: true, stream_options: { include_usage: true } });
  let reasoning = "", content = "", finish = null, usage = null, n = 0, role = null;
  for await (const chunk of stream) {
    ++n;
    if (chunk.usage) usage = chunk.usage;
    const c = chunk.choices[0];
    if (!c) continue;
    if (c.delta.role) role = c.delta.role;
    if (c.delta.reasoning_content) reasoning += c.delta.reasoning_content;
    if (c.delta.content) content += c.delta.content;
    if (c.finish_reason) finish = c.finish_reason;
  }
  assert.ok(n > 3, "several chunks");
  assert.equal(role, "assistant");
  assert.equal(finish, "length");
  assert.equal(reasoning, whole.choices[0].message.reasoning_content);
  assert.equal(content, whole.choices[0].message.content);
  assert.deepEqual([usage.prompt_tokens, usage.completion_tokens], [whole.usage.prompt_tokens, whole.usage.completion_tokens]);
});

test("reasoning_effort none answers without thinking; think_budget closes the thinking", async () => {
  const none = await client.chat.completions.create({ messages: [{ role: "user", content: QUESTION }], temperature: 0, max_tokens: 24, reasoning_effort: "none" });
  assert.equal(none.choices[0].message.reasoning_content, "");
  assert.ok(none.choices[0].message.content.length > 0);
  const budget = await client.chat.completions.create({ messages: [{ role: "user", content: QUESTION }], temperature: 0, max_tokens: 40, think_budget: 6 });
  const m = budget.choices[0].message;
  assert.match(m.reasoning_content, /Time is up; I will answer now\.\s*$/);
  assert.ok(m.content.length > 0 && !m.content.includes("</think>"));
});

test("stop strings end the answer before them, with finish_reason stop", async () => {
  const req = { messages: [{ role: "user", content: QUESTION }], temperature: 0, max_tokens: 40, reasoning_effort: "none" };
  const full = (await client.chat.completions.create(req)).choices[0].message.content;
  const stop = full.slice(12, 16);
  const cut = full.indexOf(stop);
  assert.ok(cut >= 0 && stop.length === 4, full);
  const r = await client.chat.completions.create({ ...req, stop: [stop, "never-appears-xyz"] });
  assert.equal(r.choices[0].message.content, full.slice(0, cut));
  assert.equal(r.choices[0].finish_reason, "stop");
  const s = await client.chat.completions.create({ ...req, stop, stream: true });
  let content = "", finish = null;
  for await (const c of s) { content += c.choices[0]?.delta?.content || ""; finish = c.choices[0]?.finish_reason || finish; }
  assert.equal(content, full.slice(0, cut));
  assert.equal(finish, "stop");
});

test("completions: text equal to r1 run on the same prompt", async () => {
  const r = await client.completions.create({ model: "tiny-r1-qwen2.gguf", prompt: "ROMEO:", max_tokens: 20, temperature: 0 });
  const run = r1(["run", "-m", model, "-p", "ROMEO:", "--temp", "0", "-n", "20", "-t", "1"]);
  assert.equal(r.choices[0].text, run.out);
  assert.equal(r.usage.completion_tokens, generatedCount(run.err));
  let streamed = "";
  for await (const c of await client.completions.create({ prompt: "ROMEO:", max_tokens: 20, temperature: 0, stream: true }))
    streamed += c.choices[0]?.text || "";
  assert.equal(streamed, run.out);
});

test("16 concurrent streams give the same texts as the 16 one at a time (seeded)", async () => {
  const s = await server(["--parallel", "4"]);
  const c = new OpenAI({ baseURL: s.base, apiKey: "unused", maxRetries: 0 });
  const reqs = Array.from({ length: 16 }, (_, i) => ({
    messages: [{ role: "user", content: `Question number ${i}: tell me about ${["kings", "love", "war", "rome"][i % 4]}.` }],
    temperature: 0.9, seed: 1000 + i, max_tokens: 24 + (i % 5) * 4, stream: true,
  }));
  const collect = async req => {
    let reasoning = "", content = "";
    for await (const ch of await c.chat.completions.create(req)) {
      reasoning += ch.choices[0]?.delta?.reasoning_content || "";
      content += ch.choices[0]?.delta?.content || "";
    }
    return reasoning + "\n--- answer ---\n" + content;
  };
  const together = await Promise.all(reqs.map(collect));
  const alone = [];
  for (const r of reqs) alone.push(await collect(r));
  assert.deepEqual(together, alone);
  assert.ok(new Set(alone).size > 8, "different seeds and prompts give different texts");
  const m = await call(s.url + "/metrics", { method: "GET" });
  assert.match(m.text, /^r1_slots_busy 0$/m);
  assert.match(m.text, /^r1_generations_total 32$/m);
});

test("bad requests get the right 4xx with an OpenAI error body, and the server keeps serving", async () => {
  const url = srv.base + "/chat/completions";
  const ok = JSON.stringify({ messages: [{ role: "user", content: "hi" }], max_tokens: 2 });
  const cases = [
    ["{\"messages\": [", 400, /not valid JSON/],
    [JSON.stringify({ messages: "hi" }), 400, /'messages'/],
    [JSON.stringify({ messages: [{ role: "user", content: "hi" }], temperature: "hot" }), 400, /'temperature'/],
    [JSON.stringify({ messages: [{ role: "user", content: "hi" }], max_tokens: "9" }), 400, /'max_tokens'/],
    [JSON.stringify({ messages: [{ role: "user", content: 5 }] }), 400, /'messages\[0\]\.content'/],
    ["[".repeat(5000) + "]".repeat(5000), 400, /nests 5000 levels/],
    [JSON.stringify({ messages: [{ role: "user", content: "x".repeat(9 << 20) }] }), 413, /limit/],
    [JSON.stringify({ model: "nope", messages: [{ role: "user", content: "hi" }] }), 404, /'nope' not found/],
  ];
  for (const [body, status, re] of cases) {
    const r = await call(url, { body });
    assert.equal(r.status, status, body.slice(0, 80) + " -> " + r.text);
    assert.match(r.json.error.message, re);
    assert.equal(typeof r.json.error.type, "string");
  }
  assert.equal((await call(srv.url + "/v1/nothing", { method: "GET" })).status, 404);
  assert.equal((await call(url, { body: ok })).status, 200);
  assert.equal((await call(srv.url + "/health", { method: "GET" })).json.status, "ok");
});

test("a prompt longer than the context is 400 with the numbers; max_tokens is capped by the context", async () => {
  const s = await server(["-c", "64"]);
  const long = await call(s.base + "/chat/completions", { body: JSON.stringify({ messages: [{ role: "user", content: "word ".repeat(200) }], stream: true }) });
  assert.equal(long.status, 400);
  assert.match(long.json.error.message, /the prompt has \d+ tokens but the context holds 64/);
  const capped = await call(s.base + "/chat/completions", { body: JSON.stringify({ messages: [{ role: "user", content: "hi" }], max_tokens: 100000, ignore_eos: true }) });
  assert.equal(capped.status, 200);
  assert.equal(capped.json.usage.prompt_tokens + capped.json.usage.completion_tokens, 64);
  assert.equal(capped.json.choices[0].finish_reason, "length");
});

test("--api-key: 401 without or with a wrong key, served with the right one", async () => {
  const s = await server(["--api-key", "sekret"]);
  const body = JSON.stringify({ messages: [{ role: "user", content: "hi" }], max_tokens: 2 });
  assert.equal((await call(s.base + "/chat/completions", { body })).status, 401);
  assert.equal((await call(s.base + "/chat/completions", { body, headers: { Authorization: "Bearer wrong" } })).status, 401);
  assert.equal((await call(s.base + "/models", { method: "GET" })).status, 401);
  assert.equal((await call(s.url + "/health", { method: "GET" })).status, 200);
  const c = new OpenAI({ baseURL: s.base, apiKey: "sekret", maxRetries: 0 });
  assert.equal((await c.chat.completions.create({ messages: [{ role: "user", content: "hi" }], max_tokens: 2 })).choices.length, 1);
  await assert.rejects(new OpenAI({ baseURL: s.base, apiKey: "nope", maxRetries: 0 }).models.list(), e => e.status === 401);
});

test("queue full is 503 with Retry-After; a client that disconnects frees its slot", async () => {
  const s = await server(["--parallel", "1", "--max-queue", "0"]);
  const ctl = new AbortController();
  const res = await fetch(s.base + "/chat/completions", {
    method: "POST", signal: ctl.signal, headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ messages: [{ role: "user", content: "hi" }], max_tokens: 100000, ignore_eos: true, stream: true }),
  });
  assert.equal(res.status, 200);
  const reader = res.body.getReader();
  await reader.read();  // the stream runs: the only slot is busy
  const busy = await call(s.base + "/chat/completions", { body: JSON.stringify({ messages: [{ role: "user", content: "hi" }], max_tokens: 2 }) });
  assert.equal(busy.status, 503);
  assert.ok(Number(busy.headers.get("retry-after")) >= 1);
  ctl.abort();
  // The slot is free again within a moment (a step or two after the failed write).
  let free = false;
  for (let i = 0; i < 50 && !free; ++i) {
    await new Promise(r => setTimeout(r, 100));
    free = /^r1_slots_busy 0$/m.test((await call(s.url + "/metrics", { method: "GET" })).text);
  }
  assert.ok(free, "the slot was freed after the client disconnected");
  assert.equal((await call(s.base + "/chat/completions", { body: JSON.stringify({ messages: [{ role: "user", content: "hi" }], max_tokens: 2 }) })).status, 200);
});
