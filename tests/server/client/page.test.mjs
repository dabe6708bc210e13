// The web chat page at `/` in headless Chromium (Debian's, driven by playwright-core): type a
// question, see the thinking and the answer stream in, and a second turn keep the first; a
// screenshot goes to the test output folder (R1_TEST_OUT).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { chromium } from "playwright-core";
import { tinyModel, startServer, OUT_DIR } from "./harness.mjs";

const CHROMIUM = "/usr/bin/chromium";
let srv, browser;

before(async () => {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: run scripts/setup (Debian package chromium)`);
  // A small think budget so the tiny model's answer follows its thinking within the test.
  srv = await startServer(tinyModel(), ["--think-budget", "12", "-n", "120"]);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
});

after(async () => {
  if (browser) await browser.close();
  if (srv) assert.equal((await srv.stop()).code, 0);
});

test("chat page: thinking collapsed above the streamed answer, conversation kept", async () => {
  const page = await browser.newPage();
  const external = [];
  page.on("request", r => { if (!r.url().startsWith(srv.url)) external.push(r.url()); });
  let streamType = null;
  page.on("response", r => { if (r.url().endsWith("/v1/chat/completions") && !streamType) streamType = r.headers()["content-type"]; });
  await page.goto(srv.url + "/");
  await page.waitForFunction(() => document.getElementById("model").textContent.length > 0);

  // Watch the answer grow: more than one distinct length means it streamed in.
  await page.evaluate(() => {
    window.__lengths = [];
    new MutationObserver(() => {
      const a = document.querySelectorAll(".msg.assistant .answer");
      const t = document.querySelectorAll(".msg.assistant .think-text");
      window.__lengths.push((a.length ? a[a.length - 1].textContent.length : 0) + ":" + (t.length ? t[t.length - 1].textContent.length : 0));
    }).observe(document.getElementById("log"), { subtree: true, childList: true, characterData: true });
  });
  await page.fill("#input", "What is two plus two?");
  await page.click("#send");
  await page.waitForSelector(".msg.assistant[data-done='1']", { timeout: 60000 });

  const think = page.locator(".msg.assistant details.think").first();
  assert.equal(await think.count(), 1, "a thinking block");
  assert.equal(await think.evaluate(d => d.open), false, "collapsed");
  const thinkText = await page.locator(".msg.assistant .think-text").first().textContent();
  assert.match(thinkText, /Time is up; I will answer now\./);
  const color = await think.evaluate(d => getComputedStyle(d).color);
  const bodyColor = await page.evaluate(() => getComputedStyle(document.body).color);
  assert.notEqual(color, bodyColor, "dimmed");
  const answer = await page.locator(".msg.assistant .answer").first().textContent();
  assert.ok(answer.length > 0, "an answer");
  assert.ok(!answer.includes("think>"), "no tags in the answer");
  // Streamed: the page read an SSE response and rendered it as it came (how finely the text is
  // cut depends on how fast the browser reads under load, so only that it was not one piece).
  assert.equal(streamType, "text/event-stream");
  const states = [...new Set(await page.evaluate(() => window.__lengths))].filter(s => s !== "0:0");
  assert.ok(states.length >= 1, "rendered while streaming: " + JSON.stringify(states));

  await think.locator("summary").click();
  fs.mkdirSync(OUT_DIR, { recursive: true });
  const shot = path.join(OUT_DIR, "chat-page.png");
  await page.screenshot({ path: shot, fullPage: true });
  assert.ok(fs.statSync(shot).size > 1000);

  // A second question: the first exchange stays on the page and is sent back as history.
  const sent = page.waitForRequest(r => r.url().endsWith("/v1/chat/completions"));
  await page.fill("#input", "And three plus three?");
  await page.click("#send");
  const body = JSON.parse((await sent).postData());
  assert.deepEqual(body.messages.map(m => m.role), ["user", "assistant", "user"]);
  assert.equal(body.messages[1].content, answer);
  await page.waitForFunction(() => document.querySelectorAll(".msg.assistant[data-done='1']").length === 2, null, { timeout: 60000 });
  assert.equal(await page.locator(".msg.user").count(), 2);
  assert.deepEqual(external, [], "the page loads nothing from elsewhere");
});
