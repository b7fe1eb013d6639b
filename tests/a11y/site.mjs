#!/usr/bin/env node
// Drives Debian's headless Chromium over the public site as a patient or an editor would
// (tests/test_site_browser.py). One command per run; prints one JSON object.
//
//   node tests/a11y/site.mjs first-screen URL WIDTH HEIGHT
//       where the first clinic card and its call button sit on a phone's first screen
//   node tests/a11y/site.mjs download URL SAVE_AS
//       clicks the first clinic card's handout PDF link and saves what the browser downloads
//   node tests/a11y/site.mjs live URL STEPS.json
//       opens URL, then for each step {file, text, expect} writes `text` to `file` and waits
//       (never reloading by hand) until the open page shows `expect`
//
// CAREPRESS_CHROMIUM names the browser binary (default /usr/bin/chromium); no browser is ever
// downloaded, and the page may reach only the server it came from.

import { readFile, writeFile } from "node:fs/promises";
import process from "node:process";

import { chromium } from "playwright-core";

const CHROMIUM = process.env.CAREPRESS_CHROMIUM || "/usr/bin/chromium";
const CHROMIUM_ARGS = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
];
const STEP_TIMEOUT_MS = 15_000;

async function withPage(url, viewport, action) {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  try {
    const context = await browser.newContext({ viewport, acceptDownloads: true });
    const origin = new URL(url).origin;
    await context.route((u) => u.origin !== origin, (route) => route.abort());
    const page = await context.newPage();
    const response = await page.goto(url, { waitUntil: "load" });
    if (!response || !response.ok()) throw new Error(`could not load ${url}: ${response?.status()}`);
    await page.evaluate(() => document.fonts.ready.then(() => undefined));
    return await action(page);
  } finally {
    await browser.close();
  }
}

async function firstScreen(url, width, height) {
  return withPage(url, { width, height }, (page) => page.evaluate(() => {
    const box = (r) => ({ top: r.top, bottom: r.bottom, left: r.left, right: r.right });
    const card = document.querySelector(".clinic-card");
    const call = card?.querySelector('a[href^="tel:"]');
    return {
      viewport: { width: innerWidth, height: innerHeight },
      scrollWidth: document.documentElement.scrollWidth,
      card: card ? box(card.getBoundingClientRect()) : null,
      name: card?.querySelector("h3") ? box(card.querySelector("h3").getBoundingClientRect()) : null,
      call: call ? { ...box(call.getBoundingClientRect()), href: call.getAttribute("href") } : null,
    };
  }));
}

async function download(url, saveAs) {
  return withPage(url, { width: 375, height: 667 }, async (page) => {
    const link = page.locator('.clinic-card a[href$="handout.pdf"]').first();
    const href = await link.getAttribute("href");
    const [file] = await Promise.all([page.waitForEvent("download"), link.click()]);
    await file.saveAs(saveAs);
    return { href, suggested: file.suggestedFilename(), url: file.url(), saved: saveAs };
  });
}

async function live(url, stepsFile) {
  const steps = JSON.parse(await readFile(stepsFile, "utf8"));
  return withPage(url, { width: 1280, height: 800 }, async (page) => {
    let loads = 0;
    page.on("framenavigated", (frame) => { if (frame === page.mainFrame()) loads += 1; });
    const results = [];
    for (const step of steps) {
      const before = loads;
      const started = Date.now();
      await writeFile(step.file, step.text);
      let shown = false;
      try {
        await page.waitForFunction(
          (expect) => document.body && document.body.innerText.includes(expect),
          step.expect, { timeout: STEP_TIMEOUT_MS, polling: 20 },
        );
        shown = true;
      } catch {
        shown = false;
      }
      results.push({ expect: step.expect, shown, seconds: (Date.now() - started) / 1000,
        reloadedBy: loads - before, text: (await page.innerText("body")).slice(0, 2000) });
    }
    return { steps: results };
  });
}

const [command, ...args] = process.argv.slice(2);
let result;
if (command === "first-screen") result = await firstScreen(args[0], Number(args[1]), Number(args[2]));
else if (command === "download") result = await download(args[0], args[1]);
else if (command === "live") result = await live(args[0], args[1]);
else {
  process.stderr.write("usage: site.mjs first-screen URL W H | download URL FILE | live URL STEPS\n");
  process.exit(2);
}
process.stdout.write(JSON.stringify(result) + "\n");
