// Test harness for r1 serve: converts the tiny fixture model with `r1 convert`, starts servers
// on 127.0.0.1 with a free port (--port 0, read back from the start line) and always stops them.
import { spawn, execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

export const R1 = process.env.R1_BIN;
export const FIXTURES = process.env.R1_FIXTURES;
export const OUT_DIR = process.env.R1_TEST_OUT || fs.mkdtempSync(path.join(os.tmpdir(), "r1-serve-out-"));
if (!R1 || !FIXTURES) throw new Error("set R1_BIN and R1_FIXTURES (ctest does)");

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "r1-serve-test-"));
process.on("exit", () => fs.rmSync(tmp, { recursive: true, force: true }));

// The tiny R1-template fixture as an f32 GGUF file (converted once per test file).
export function tinyModel() {
  const out = path.join(tmp, "tiny-r1-qwen2.gguf");
  if (!fs.existsSync(out))
    execFileSync(R1, ["convert", path.join(FIXTURES, "models", "tiny-r1-qwen2"), "-o", out, "--type", "f32", "-q", "-f"]);
  return out;
}

// Runs `r1 args...`; returns {out, err}. Throws on a non-zero exit.
export function r1(args, input) {
  const r = spawnSyncText(args, input);
  if (r.status !== 0) throw new Error(`r1 ${args.join(" ")} failed: ${r.stderr}`);
  return { out: r.stdout, err: r.stderr };
}
import { spawnSync } from "node:child_process";
function spawnSyncText(args, input) {
  return spawnSync(R1, args, { input, encoding: "utf8", maxBuffer: 64 << 20 });
}

export function writeTemp(name, text) {
  const p = path.join(tmp, name);
  fs.writeFileSync(p, text);
  return p;
}

// Starts `r1 serve -m model extra...`; resolves to {url, base, stop()} once it listens.
export function startServer(model, extra = []) {
  const proc = spawn(R1, ["serve", "-m", model, "--port", "0", "-t", "1", ...extra], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("r1 serve did not start in 60 s: " + stderr)), 60000);
    proc.stderr.on("data", d => {
      stderr += d;
      const m = /on (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
    proc.on("exit", code => { clearTimeout(timer); reject(new Error(`r1 serve exited (${code}): ${stderr}`)); });
  });
  const exited = new Promise(resolve => proc.on("exit", (code, signal) => resolve({ code, signal })));
  return ready.then(url => ({
    url,
    pid: proc.pid,
    base: url + "/v1",
    stderr: () => stderr,
    // SIGTERM, then the exit status; a server that does not stop in 10 s is killed (and fails).
    async stop() {
      proc.kill("SIGTERM");
      const t = setTimeout(() => proc.kill("SIGKILL"), 10000);
      const r = await exited;
      clearTimeout(t);
      return r;
    },
  }));
}

// A raw HTTP call: {status, headers, json (or null), text}.
export async function call(url, { method = "POST", body, headers = {} } = {}) {
  const res = await fetch(url, { method, body, headers: { "Content-Type": "application/json", ...headers } });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch {}
  return { status: res.status, headers: res.headers, json, text };
}

// Splits `r1 run --chat` output as the R1 template leaves it (the reply starts inside <think>):
// the text before </think> is reasoning, the rest the answer (leading whitespace dropped).
export function splitR1(text) {
  const at = text.indexOf("</think>");
  if (at < 0) return { reasoning: text.trimStart(), content: "" };
  return { reasoning: text.slice(0, at).trimStart(), content: text.slice(at + 8).trimStart() };
}

// "generated N tokens" from r1 run's timing line.
export function generatedCount(stderr) {
  const m = /generated (\d+) tokens/.exec(stderr);
  if (!m) throw new Error("no timing line in: " + stderr);
  return Number(m[1]);
}
