#!/usr/bin/env node
// Runs axe-core in Debian's headless Chromium over generated HTML files.
//
//   node tests/a11y/axe.mjs [--tags wcag2a,wcag2aa,...] FILE.html...
//
// The files are served by a tiny HTTP server on 127.0.0.1 whose root is their common folder, so
// relative stylesheet, font and logo links resolve as they do on the published site. Every file
// is loaded in one warm browser (a fresh page each); any other request is refused, and a
// subresource that fails to load is reported as an error (an unstyled page would hide contrast
// problems).
//
// Besides axe's rules, three checks that only a real browser can make are reported as violations
// in the same shape (impact "serious"):
//   keyboard-unreachable     a link or form field that Tab never reaches (WCAG 2.1.1)
//   focus-not-visible        a focused element off the page, of no size or with no focus
//                            indicator (WCAG 2.4.7); an element shown only when focused (a skip
//                            link) also gets axe's color-contrast check in its focused state
//   reflow                   content wider than a 320 CSS px viewport, so the page scrolls
//                            sideways (WCAG 1.4.10)
// Prints one JSON object per file, one per line:
//   {"file", "url", "violations": [{id, impact, help, helpUrl, nodes: [{target, html, summary}]}],
//    "incomplete": [{id, help, nodes}], "passes": N, "errors": [...]}
// Exit status: 0 clean, 1 a violation or load error, 2 bad usage or the browser would not start.
// CAREPRESS_CHROMIUM names the browser binary (default /usr/bin/chromium); no browser is
// ever downloaded.

import { readFile, realpath } from "node:fs/promises";
import { createServer } from "node:http";
import { createRequire } from "node:module";
import path from "node:path";
import process from "node:process";

import { chromium } from "playwright-core";

const require = createRequire(import.meta.url);
const AXE_SOURCE = await readFile(require.resolve("axe-core/axe.min.js"), "utf8");
const AXE_VERSION = require("axe-core/package.json").version;

// WCAG 2.0 and 2.1, levels A and AA, plus axe's best practices (landmarks, heading order,
// one h1, skip link target, unique landmarks...).
const DEFAULT_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"];
const CHROMIUM = process.env.CAREPRESS_CHROMIUM || "/usr/bin/chromium";
// The network is closed: keep Chromium from trying to reach anything by itself.
const CHROMIUM_ARGS = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
];
const PAGE_TIMEOUT_MS = 30_000;
const VIEWPORT = { width: 1280, height: 800 };
const REFLOW_WIDTH = 320;
const TYPES = {
  ".html": "text/html; charset=utf-8", ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml", ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
  ".webp": "image/webp", ".gif": "image/gif", ".ttf": "font/ttf", ".otf": "font/otf",
  ".woff": "font/woff", ".woff2": "font/woff2", ".js": "text/javascript; charset=utf-8",
  ".json": "application/json", ".xml": "application/xml", ".txt": "text/plain; charset=utf-8",
};

function usage(message) {
  process.stderr.write(`axe.mjs: ${message}\nusage: node axe.mjs [--tags a,b,...] FILE.html...\n`);
  process.exit(2);
}

function parseArgs(argv) {
  let tags = DEFAULT_TAGS;
  const files = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--tags") {
      if (i + 1 >= argv.length) usage("--tags needs a value");
      tags = argv[++i].split(",").map((t) => t.trim()).filter(Boolean);
    } else if (argv[i].startsWith("--")) {
      usage(`unknown option ${argv[i]}`);
    } else {
      files.push(argv[i]);
    }
  }
  if (!files.length) usage("no files given");
  if (!tags.length) usage("--tags is empty");
  return { tags, files };
}

function commonFolder(files) {
  let root = path.dirname(files[0]);
  for (const file of files) {
    while (path.relative(root, file).startsWith("..")) root = path.dirname(root);
  }
  return root;
}

// A read-only static server for the folder, on 127.0.0.1 and a free port.
async function serve(root) {
  const server = createServer(async (request, response) => {
    try {
      const pathname = decodeURIComponent(new URL(request.url, "http://127.0.0.1").pathname);
      const file = path.join(root, pathname);
      if (path.relative(root, file).startsWith("..") || request.method !== "GET") {
        throw new Error("refused");
      }
      const body = await readFile(file);
      const type = TYPES[path.extname(file).toLowerCase()] || "application/octet-stream";
      response.writeHead(200, { "content-type": type, "cache-control": "max-age=600" });
      response.end(body);
    } catch {
      response.writeHead(404, { "content-type": "text/plain" });
      response.end("not found");
    }
  });
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  return { server, origin: `http://127.0.0.1:${server.address().port}` };
}

function simplify(results, withNodes) {
  return results.map((rule) => ({
    id: rule.id,
    impact: rule.impact,
    help: rule.help,
    helpUrl: rule.helpUrl,
    nodes: withNodes
      ? rule.nodes.map((node) => ({
        target: node.target.map(String),
        html: node.html.length > 300 ? `${node.html.slice(0, 300)}…` : node.html,
        summary: node.failureSummary || "",
      }))
      : rule.nodes.length,
  }));
}

function problem(id, help, nodes, helpUrl = "") {
  return { id, impact: "serious", help, helpUrl, nodes };
}

// Tab from the top of the page to the end; every focusable element must get the focus, be on
// the page and show a focus indicator. Runs after axe (it marks elements with data attributes).
async function keyboardWalk(page) {
  const focusables = await page.evaluate(() => {
    const selector = 'a[href], area[href], button, input:not([type="hidden"]), select, ' +
      'textarea, iframe, [contenteditable=""], [contenteditable="true"], [tabindex]';
    const path = (el) => {
      const parts = [];
      for (let node = el; node && node.nodeType === 1 && node !== document.documentElement;
        node = node.parentElement) {
        if (node.id && document.querySelectorAll(`#${CSS.escape(node.id)}`).length === 1) {
          parts.unshift(`#${CSS.escape(node.id)}`);
          break;
        }
        const same = [...node.parentElement.children].filter((c) => c.tagName === node.tagName);
        const tag = node.tagName.toLowerCase();
        parts.unshift(same.length > 1 ? `${tag}:nth-of-type(${same.indexOf(node) + 1})` : tag);
      }
      return parts.join(" > ");
    };
    const out = [];
    document.querySelectorAll(selector).forEach((el, index) => {
      // tabindex="-1" takes a link out of the keyboard's reach: that is what this finds.
      const link = el.matches("a[href], area[href]");
      if (el.disabled || (el.tabIndex < 0 && !link) || el.closest("[inert]")) return;
      const style = getComputedStyle(el);
      if (style.display === "none" || style.visibility === "hidden") return;
      const r = el.getBoundingClientRect();
      const onPage = r.width > 0 && r.height > 0 && r.right + scrollX > 0 && r.bottom + scrollY > 0;
      out.push({ index: String(index), target: path(el), html: el.outerHTML.slice(0, 300), onPage });
      el.dataset.a11yIndex = String(index);
    });
    return out;
  });
  const byIndex = new Map(focusables.map((f) => [f.index, f]));
  const reached = new Set();
  const hidden = [];
  const contrast = [];
  let contrastRule = null;
  await page.evaluate(() => {
    document.activeElement?.blur();
    window.scrollTo(0, 0);
  });
  for (let step = 0; step < focusables.length + 5; step++) {
    await page.keyboard.press("Tab");
    const focus = await page.evaluate(() => {
      const el = document.activeElement;
      if (!el || el === document.body || !el.dataset.a11yIndex) return null;
      const r = el.getBoundingClientRect();
      const style = getComputedStyle(el);
      const outline = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0;
      return {
        index: el.dataset.a11yIndex,
        onPage: r.width > 0 && r.height > 0 && r.right + scrollX > 0 && r.bottom + scrollY > 0 &&
          r.left + scrollX < document.documentElement.scrollWidth,
        indicator: outline || style.boxShadow !== "none",
      };
    });
    if (!focus || reached.has(focus.index)) break;
    reached.add(focus.index);
    const item = byIndex.get(focus.index);
    if (!focus.onPage || !focus.indicator) {
      hidden.push({
        target: [item.target], html: item.html,
        summary: focus.onPage ? "no outline or box-shadow when focused"
          : "off the page or of no size when focused",
      });
    } else if (!item.onPage) {
      // Shown only when focused (a skip link): check its contrast now.
      const results = await page.evaluate(
        ({ target, values }) => window.axe.run(
          { include: [target] }, { runOnly: { type: "rule", values }, resultTypes: ["violations"] },
        ),
        { target: `[data-a11y-index="${focus.index}"]`, values: ["color-contrast"] },
      );
      for (const rule of results.violations) {
        contrastRule = rule;
        for (const node of rule.nodes) {
          contrast.push({ target: [item.target], html: item.html,
            summary: `when focused: ${node.failureSummary}` });
        }
      }
    }
  }
  await page.evaluate(() => {
    document.querySelectorAll("[data-a11y-index]").forEach((el) => delete el.dataset.a11yIndex);
  });
  const problems = [];
  const unreachable = focusables.filter((f) => !reached.has(f.index)).map((f) => ({
    target: [f.target], html: f.html, summary: "Tab from the top of the page never focuses it",
  }));
  if (unreachable.length) {
    problems.push(problem("keyboard-unreachable",
      "Every link and form field must be reachable with the Tab key (WCAG 2.1.1)", unreachable,
      "https://www.w3.org/WAI/WCAG21/Understanding/keyboard.html"));
  }
  if (hidden.length) {
    problems.push(problem("focus-not-visible",
      "A focused element must be on the page and show a focus indicator (WCAG 2.4.7)", hidden,
      "https://www.w3.org/WAI/WCAG21/Understanding/focus-visible.html"));
  }
  if (contrast.length) {
    problems.push(problem("color-contrast", `${contrastRule.help} (focused state)`, contrast,
      contrastRule.helpUrl));
  }
  return problems;
}

// At 320 CSS px wide nothing may stick out sideways (data tables excepted, as WCAG allows).
async function reflow(page) {
  await page.setViewportSize({ width: REFLOW_WIDTH, height: VIEWPORT.height });
  const wide = await page.evaluate((width) => {
    if (document.documentElement.scrollWidth <= width) return [];
    const out = [];
    for (const el of document.body.querySelectorAll("*")) {
      if (el.closest("table")) continue;
      const r = el.getBoundingClientRect();
      const inner = [...el.children].some((c) => c.getBoundingClientRect().right > width + 0.5);
      if (r.right > width + 0.5 && !inner) {
        const classes = [...el.classList].map((c) => `.${CSS.escape(c)}`).join("");
        out.push({ target: [el.tagName.toLowerCase() + classes], html: el.outerHTML.slice(0, 300),
          summary: `its right edge is at ${Math.round(r.right)} px` });
      }
    }
    return out.length ? out : [{ target: ["html"], html: "",
      summary: `the page is ${document.documentElement.scrollWidth} px wide` }];
  }, REFLOW_WIDTH);
  await page.setViewportSize(VIEWPORT);
  return wide.length ? [problem("reflow",
    `Content must fit a ${REFLOW_WIDTH} CSS px wide viewport without sideways scrolling ` +
    "(WCAG 1.4.10)", wide.slice(0, 10), "https://www.w3.org/WAI/WCAG21/Understanding/reflow.html")] : [];
}

async function check(context, origin, root, file, tags) {
  const url = origin + "/" + path.relative(root, file).split(path.sep).map(encodeURIComponent).join("/");
  const errors = [];
  const page = await context.newPage();
  page.setDefaultTimeout(PAGE_TIMEOUT_MS);
  page.on("requestfailed", (request) => {
    errors.push(`request failed: ${request.url()} (${request.failure()?.errorText})`);
  });
  page.on("response", (response) => {
    if (response.status() >= 400) errors.push(`HTTP ${response.status()}: ${response.url()}`);
  });
  page.on("pageerror", (error) => errors.push(`script error: ${error.message}`));
  try {
    const response = await page.goto(url, { waitUntil: "load" });
    if (!response || !response.ok()) throw new Error(`could not load ${url}`);
    await page.evaluate(() => document.fonts.ready.then(() => undefined));
    await page.evaluate(AXE_SOURCE);
    const results = await page.evaluate(
      (options) => window.axe.run(document, options),
      { runOnly: { type: "tag", values: tags }, resultTypes: ["violations", "incomplete"] },
    );
    const extra = [...await keyboardWalk(page), ...await reflow(page)];
    return {
      file, url,
      violations: [...simplify(results.violations, true), ...extra],
      incomplete: simplify(results.incomplete, false),
      passes: results.passes.length,
      errors,
    };
  } catch (error) {
    errors.push(String(error.message || error));
    return { file, url, violations: [], incomplete: [], passes: 0, errors };
  } finally {
    await page.close();
  }
}

async function main() {
  const { tags, files: given } = parseArgs(process.argv.slice(2));
  let files;
  try {
    files = await Promise.all(given.map((file) => realpath(path.resolve(file))));
  } catch (error) {
    usage(error.message);
  }
  const root = commonFolder(files);
  const { server, origin } = await serve(root);
  let browser;
  try {
    browser = await chromium.launch({
      executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 60_000,
    });
  } catch (error) {
    server.close();
    process.stderr.write(`axe.mjs: could not start ${CHROMIUM}: ${error.message}\n`);
    process.exit(2);
  }
  process.stderr.write(
    `axe.mjs: axe-core ${AXE_VERSION}, Chromium ${browser.version()}, tags ${tags.join(",")}\n`,
  );
  let failed = false;
  try {
    const context = await browser.newContext({ serviceWorkers: "block", viewport: VIEWPORT });
    // Only the local server: a page that reaches out would fail here, not hang.
    await context.route((url) => !url.href.startsWith(origin + "/"), (route) => route.abort());
    for (const file of files) {
      const result = await check(context, origin, root, file, tags);
      failed ||= result.violations.length > 0 || result.errors.length > 0;
      process.stdout.write(JSON.stringify(result) + "\n");
    }
  } finally {
    await browser.close();
    server.close();
  }
  process.exit(failed ? 1 : 0);
}

await main();
