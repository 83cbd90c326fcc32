// run.mjs — drives sluice's web UI in Debian's chromium through
// playwright-core, one scenario per run, for tests/e2e/test_ui.py:
//
//   node run.mjs SCENARIO BASE_URL ARTIFACT_DIR [OPTIONS_JSON]
//
// Each scenario uses the UI the way a person would (links, buttons, forms)
// and waits on what the page shows, with generous deadlines, never on
// timings. What it saw is printed as one JSON line on stdout, for the
// Python side to check against independent readings (the log's segments,
// the API through urllib). Any console error, uncaught exception or failed
// request of the page fails the scenario. Screenshots go to ARTIFACT_DIR.
// Exit 0 when the scenario held, 1 with the reason on stderr when not.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const DEADLINE_MS = 90_000;
const [scenarioName, baseUrl, artifactDir, optionsText] = process.argv.slice(2);
const options = optionsText ? JSON.parse(optionsText) : {};

const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

function check(condition, message) {
  if (!condition) throw new Error(message);
}

async function shot(page, name) {
  await page.screenshot({ path: path.join(artifactDir, `${scenarioName}-${name}.png`), fullPage: true });
}

// Waits until read() gives a value accepted by ok(); returns it.
async function until(what, read, ok, deadline = DEADLINE_MS) {
  const end = Date.now() + deadline;
  let last;
  for (;;) {
    last = await read();
    if (ok(last)) return last;
    if (Date.now() > end) throw new Error(`${what}: not within ${deadline / 1000} s (last: ${JSON.stringify(last)})`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

const number = (text) => Number(String(text || '').replace(/[^0-9.]/g, ''));

async function noSidewaysScroll(page, what) {
  const widths = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, view: window.innerWidth }));
  check(widths.scroll <= widths.view + 1, `${what}: the page is ${widths.scroll}px wide on a ${widths.view}px screen`);
}

const scenarios = {
  // For bench/ui_bench.py: the UI left open for options.seconds, going
  // round its sections the way a person watching it would (each page's own
  // refreshes run meanwhile). Prints how many pages were shown.
  async soak(page) {
    const sections = ['#/', '#/topics', '#/groups', '#/dead-letters', '#/dags', '#/alerts'];
    const end = Date.now() + (options.seconds || 30) * 1000;
    let pages = 0;
    await page.goto(`${baseUrl}/`);
    while (Date.now() < end) {
      await page.goto(`${baseUrl}/${sections[pages % sections.length]}`);
      await page.waitForLoadState('networkidle').catch(() => {});
      pages++;
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
    return { pages };
  },
  // The overview shows the pipelines; the records-in total grows and the charts get points.
  async overview(page) {
    await page.goto(`${baseUrl}/`);
    const row = page.locator(`tr[data-pipeline="${options.pipeline}"]`);
    const total = row.locator('[data-field=records_in]');
    const first = await until('a records-in total', async () => number(await total.textContent()), (n) => n > 0);
    const later = await until('the records-in total to grow', async () => number(await total.textContent()), (n) => n > first);
    const rate = await until('a records-in rate', async () => row.locator('[data-field=records_in_per_s]').textContent(),
      (text) => /\d/.test(text));
    const card = page.locator(`section.card[data-pipeline="${options.pipeline}"]`);
    const points = await until('throughput chart points',
      async () => Number(await card.locator('canvas[data-chart=throughput]').getAttribute('data-points')), (n) => n >= 2);
    const lagPoints = Number(await card.locator('canvas[data-chart=lag]').getAttribute('data-points'));
    const state = (await row.locator('[data-field=state]').textContent()).trim();
    // The chart's canvas has been drawn on: some pixels differ from its background.
    const inked = await card.locator('canvas[data-chart=throughput]').evaluate((canvas) => {
      const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
      let coloured = 0;
      for (let i = 0; i < data.length; i += 4) if (data[i + 3] > 0 && Math.abs(data[i] - data[i + 2]) > 60) coloured++;
      return coloured;
    });
    check(inked > 20, `the throughput chart drew ${inked} coloured pixels`);
    await shot(page, 'pipelines');
    // Stop, then start, a pipeline with its buttons.
    const other = page.locator(`tr[data-pipeline="${options.stop_pipeline}"]`);
    await other.getByRole('button', { name: `stop ${options.stop_pipeline}`, exact: true }).click();
    const stopped = await until('the stop notice', async () => page.locator('#notice').textContent(), (t) => t.includes(`${options.stop_pipeline}: stopped`));
    await until('the stopped state', async () => other.locator('[data-field=state] .badge').textContent(), (t) => t === 'stopped');
    await other.getByRole('button', { name: `start ${options.stop_pipeline}`, exact: true }).click();
    const started = await until('the start notice', async () => page.locator('#notice').textContent(), (t) => t.includes(`${options.stop_pipeline}: started`));
    await until('the running state', async () => other.locator('[data-field=state] .badge').textContent(), (t) => t === 'running');
    return { first, later, rate, points, lag_points: lagPoints, state, stopped, started };
  },

  // Trigger a DAG with a conf from its page; its run's cells turn success; a try's log opens; pause and unpause.
  async dag(page) {
    await page.goto(`${baseUrl}/#/dags`);
    await page.locator(`tr[data-dag="${options.dag}"] a`).first().click();
    await page.waitForURL((url) => url.hash === `#/dags/${options.dag}`);
    await page.locator('details.trigger-box > summary').click();
    await page.getByLabel('Conf (a JSON object)').fill(JSON.stringify(options.conf));
    await page.locator('form.trigger button[type=submit]').click();
    const result = await until('the trigger answer', async () => page.locator('form.trigger .form-result').textContent(),
      (text) => /Triggered /.test(text));
    const runId = result.replace(/^Triggered /, '').replace(/\.$/, '');
    const cellsOf = page.locator(`button.cell[data-run="${runId}"]`);
    const runCell = page.locator(`button.run-cell[data-run="${runId}"]`);
    await until('the run cell to turn success', async () => runCell.getAttribute('data-state').catch(() => null),
      (state) => state === 'success' || state === 'failed');
    check(await runCell.getAttribute('data-state') === 'success', `the run ended ${await runCell.getAttribute('data-state')}`);
    const states = await until('every task cell to be success', async () => cellsOf.evaluateAll((cells) => cells.map((c) => c.dataset.state)),
      (list) => list.length === options.tasks && list.every((s) => s === 'success'));
    const colour = await runCell.evaluate((cell) => getComputedStyle(cell).backgroundColor);
    const graphStates = await page.locator('svg.dag-graph g.node').evaluateAll((nodes) => nodes.map((n) => n.dataset.state));
    await shot(page, 'grid');
    await page.locator(`button.cell[data-run="${runId}"][data-task="${options.log_task}"]`).click();
    await page.locator('#dag-selection a', { hasText: 'log of try 1' }).click();
    const log = await until('the log text', async () => page.locator('#task-log').textContent(), (text) => text.includes(options.log_text));
    await shot(page, 'log');
    // Clear one task of the run: it and its downstream run again, as second tries.
    await page.goto(`${baseUrl}/#/dags/${options.dag}`);
    await page.locator(`button.cell[data-run="${runId}"][data-task="${options.clear_task}"]`).click();
    await page.getByRole('button', { name: 'Clear this task and downstream' }).click();
    await until('a second try of the cleared task', async () => page.locator('#dag-selection').textContent(),
      (text) => text.includes('log of try 2'));
    const afterClear = await until('every cell success again', async () => cellsOf.evaluateAll((cells) => cells.map((c) => c.dataset.state)),
      (list) => list.length === options.tasks && list.every((s) => s === 'success'));
    await page.locator('#dag-pause', { hasText: 'Pause' }).click();
    await until('the pause button to say Unpause', async () => page.locator('#dag-pause').textContent(), (t) => t === 'Unpause');
    const pausedAfterClick = await page.locator('h1 .badge').textContent();
    return { run_id: runId, states, colour, graph_states: graphStates, log, paused_badge: pausedAfterClick, after_clear: afterClear };
  },

  // The topics list filtered by prefix, a topic's partition read from offset 0, Next, and a produced message.
  async topic(page) {
    await page.goto(`${baseUrl}/#/topics`);
    await page.getByLabel('Name starts with').fill(options.prefix);
    await page.locator('form.filters button[type=submit]').click();
    await until('the filtered list', async () => page.locator('#topics tbody tr').evaluateAll((rows) => rows.map((r) => r.dataset.topic)),
      (names) => names.length > 0 && names.every((n) => n && n.startsWith(options.prefix)));
    await page.locator(`tr[data-topic="${options.topic}"] a`).click();
    await page.waitForURL((url) => url.hash.split('?')[0] === `#/topics/${options.topic}`);
    await page.getByLabel('Partition', { exact: true }).first().selectOption(String(options.partition));
    await page.getByLabel('From offset').fill('0');
    await page.getByLabel('How many').fill(String(options.limit));
    await page.locator('#topic-messages button[type=submit]').click();
    const read = async () => page.locator('#topic-messages article.message').evaluateAll((cards) => cards.map((c) => ({
      partition: Number(c.dataset.partition), offset: Number(c.dataset.offset),
      key: c.querySelector('code.key') ? c.querySelector('code.key').textContent : null,
      value: c.querySelector('pre.value').textContent })));
    const firstPage = await until('the first messages', read, (list) => list.length === options.limit && list[0].offset === 0);
    await shot(page, 'messages');
    await page.getByRole('button', { name: 'Next messages' }).click();
    const secondPage = await until('the next messages', read, (list) => list.length > 0 && list[0].offset === options.limit);
    await page.getByLabel('Key (empty: none)').fill(options.produce.key);
    await page.getByLabel('Value', { exact: true }).fill(JSON.stringify(options.produce.value));
    await page.getByLabel('Headers').fill(Object.entries(options.produce.headers).map(([k, v]) => `${k}: ${v}`).join('\n'));
    await page.locator('#produce-partition').selectOption(String(options.partition));
    await page.getByRole('button', { name: 'Produce' }).click();
    const written = await until('the produce answer', async () => page.locator('form.produce .form-result').textContent(),
      (text) => /Written to partition/.test(text) || /error|400|40\d/.test(text));
    const match = written.match(/partition (\d+) at offset (\d+)/);
    check(match, `produce said: ${written}`);
    await shot(page, 'produced');
    return { first_page: firstPage, second_page: secondPage, produced: { partition: Number(match[1]), offset: Number(match[2]) } };
  },

  // Every page of the consumer groups, 1000 a page, to the last one.
  async groups(page) {
    return pageThrough(page, 'groups', 'group');
  },

  // The same for a list of 1,000 topics.
  async topic_pages(page) {
    return pageThrough(page, 'topics', 'topic');
  },

  // A DAG with 10,000 runs: its page draws the grid of its latest runs
  // only (the API pages the rest), with every run cell in place.
  async dag_runs(page) {
    const requests = [];
    page.on('request', (request) => { if (request.url().includes('/api/v1/dags/')) requests.push(request.url()); });
    await page.goto(`${baseUrl}/#/dags/${options.dag}`);
    const cells = page.locator('#dag-grid button.run-cell');
    const shown = await until('the grid of recent runs', async () => cells.evaluateAll((list) => list.map((c) => c.dataset.run)),
      (list) => list.length === options.runs);
    await shot(page, 'grid');
    return { shown, requests };
  },
};

// Pages through the paged list of a section (#/groups, #/topics) at 1000
// rows a page with Next until the last, collecting each row's name.
async function pageThrough(page, section, attribute) {
  {
    const requests = [];
    page.on('request', (request) => { if (request.url().includes(`/api/v1/${section}`)) requests.push(request.url()); });
    await page.goto(`${baseUrl}/#/${section}?limit=1000`);
    const status = page.locator(`#${section} .page-status`);
    const names = [];
    let pages = 0, largestPage = 0;
    for (;;) {
      const wanted = pages + 1;
      await until(`page ${wanted}`, async () => status.getAttribute('data-page'), (n) => Number(n) === wanted);
      await until(`page ${wanted} drawn`, async () => status.textContent(), (text) => text.startsWith(`Page ${wanted}:`));
      const rows = await page.locator(`#${section} tbody tr[data-${attribute}]`).evaluateAll((list, name) => list.map((r) => r.dataset[name]), attribute);
      names.push(...rows);
      largestPage = Math.max(largestPage, rows.length);
      pages = wanted;
      if (await status.getAttribute('data-last') === 'true') break;
      check(pages < 1000, 'more than 1000 pages');
      await page.getByRole('button', { name: 'Next' }).click();
    }
    check(await page.getByRole('button', { name: 'Next' }).isDisabled(), 'Next is enabled on the last page');
    await shot(page, 'last-page');
    if (pages > 1) {
      await page.getByRole('button', { name: 'Previous' }).click();
      await until('the page before the last', async () => status.getAttribute('data-page'), (n) => Number(n) === pages - 1);
    }
    return { pages, names, largest_page: largestPage, requests };
  }
}

const moreScenarios = {

  // Every section from the menu; a dead letter with its error and origin, followed to the topic
  // it came from; a consumer group's offsets.
  async pages(page) {
    await page.goto(`${baseUrl}/`);
    for (const [link, heading] of options.sections) {
      await page.locator('#nav').getByRole('link', { name: link, exact: true }).click();
      await until(`the ${link} page`, async () => page.locator('main h1').first().textContent().catch(() => ''), (t) => t === heading);
    }
    await page.goto(`${baseUrl}/#/dead-letters`);
    const row = page.locator(`tr[data-topic="${options.dead_letter_topic}"]`);
    const reasons = await until('the reasons', async () => row.locator('ul.reasons li').allTextContents(), (list) => list.length > 0);
    await row.locator('a').click();
    const card = page.locator('#dead-letter-messages article.message').first();
    await card.waitFor();
    const shown = {
      partition: Number(await card.getAttribute('data-partition')), offset: Number(await card.getAttribute('data-offset')),
      error: await card.locator('dl.dead-letter dd.error-text').textContent(),
      origin: await card.locator('dl.dead-letter a').textContent(),
    };
    await shot(page, 'dead-letters');
    await card.locator('dl.dead-letter a').click();
    await page.waitForURL((url) => url.hash.startsWith(`#/topics/${options.source_topic}`));
    const first = page.locator('#topic-messages article.message').first();
    await first.waitFor();
    const followed = { partition: Number(await first.getAttribute('data-partition')), offset: Number(await first.getAttribute('data-offset')) };
    await page.goto(`${baseUrl}/#/groups?prefix=${options.group}`);
    await page.locator(`tr[data-group="${options.group}"] th a`).click();
    const offsets = await until('the group offsets', async () => page.locator('#offsets tbody tr').count(), (n) => n > 0);
    await shot(page, 'group');
    return { reasons, shown, followed, offsets };
  },

  // The alert rules, one firing and one inactive, with their summary.
  async alerts(page) {
    await page.goto(`${baseUrl}/#/alerts`);
    const firing = page.locator(`#alerts tr[data-alert="${options.firing}"]`);
    await until('the firing alert', async () => firing.getAttribute('data-state').catch(() => null), (state) => state === 'firing');
    const inactive = await page.locator(`#alerts tr[data-alert="${options.inactive}"]`).getAttribute('data-state');
    check(inactive === 'inactive', `${options.inactive} is ${inactive}`);
    const badge = await firing.locator('.badge').textContent();
    check(badge === 'firing', `the badge says ${badge}`);
    const summary = (await firing.locator('td').nth(4).textContent()).trim();
    const rows = (await page.locator('#alerts tbody tr').evaluateAll((list) => list.map((r) => r.dataset.alert))).sort();
    await shot(page, 'alerts');
    return { summary, rows };
  },

  // A server with auth: the first 401 shows the login form, a wrong token is refused there, the
  // operator's token logs in, and a trigger (a POST on the session) carries the CSRF token.
  async login(page) {
    await page.goto(`${baseUrl}/`);
    const dialog = page.locator('dialog.login-dialog');
    await dialog.waitFor({ state: 'visible' });
    check(await page.locator('#login-token').evaluate((input) => input === document.activeElement), 'the token field has no focus');
    await page.getByLabel('Token').fill(options.wrong_token);
    await page.getByRole('button', { name: 'Log in' }).click();
    const refused = await until('the refusal', async () => page.locator('.login-error').textContent(), (text) => text.length > 0);
    check(await dialog.isVisible(), 'the form closed on a wrong token');
    await page.getByLabel('Token').fill(options.token);
    await page.getByRole('button', { name: 'Log in' }).click();
    await dialog.waitFor({ state: 'hidden' });
    await page.locator(`tr[data-pipeline="${options.pipeline}"] [data-field=records_in]`).filter({ hasText: /\d/ }).waitFor();
    const who = await page.locator('#who').textContent();
    await page.goto(`${baseUrl}/#/dags/${options.dag}`);
    await page.locator('details.trigger-box > summary').click();
    await page.locator('form.trigger button[type=submit]').click();
    const result = await until('the trigger answer', async () => page.locator('form.trigger .form-result').textContent(),
      (text) => text.length > 0);
    check(result.startsWith('Triggered '), `the trigger said: ${result}`);
    await shot(page, 'logged-in');
    await page.getByRole('button', { name: 'Log out' }).click();
    await dialog.waitFor({ state: 'visible' });
    return { refused, who, run_id: result.replace(/^Triggered /, '').replace(/\.$/, '') };
  },

  // A phone: no page is wider than the screen, the menu opens and leads on.
  async phone(page) {
    await page.goto(`${baseUrl}/`);
    await page.locator(`tr[data-pipeline="${options.pipeline}"]`).waitFor();
    await until('chart points', async () => Number(await page.locator('canvas[data-chart=throughput]').first().getAttribute('data-points')), (n) => n >= 1);
    await noSidewaysScroll(page, 'pipelines');
    const nav = page.locator('#nav');
    check(!(await nav.isVisible()), 'the sections show before the menu is opened');
    await shot(page, 'pipelines');
    await page.getByRole('button', { name: 'Menu' }).click();
    check(await nav.isVisible(), 'the menu did not open');
    check(await page.getByRole('button', { name: 'Menu' }).getAttribute('aria-expanded') === 'true', 'aria-expanded not true');
    await shot(page, 'menu');
    await page.getByRole('link', { name: 'DAGs' }).click();
    await page.locator(`tr[data-dag="${options.dag}"]`).waitFor();
    check(!(await nav.isVisible()), 'the menu stayed open after choosing a section');
    await noSidewaysScroll(page, 'DAGs');
    await page.goto(`${baseUrl}/#/dags/${options.dag}`);
    await page.locator('svg.dag-graph').waitFor();
    await noSidewaysScroll(page, 'a DAG');
    await shot(page, 'dag');
    // The keyboard reaches the menu button and opens it.
    await page.goto(`${baseUrl}/`);
    await page.locator(`tr[data-pipeline="${options.pipeline}"]`).waitFor();
    let focused = '';
    for (let i = 0; i < 5 && focused !== 'menu-toggle'; i++) {
      await page.keyboard.press('Tab');
      focused = await page.evaluate(() => document.activeElement && document.activeElement.id);
    }
    check(focused === 'menu-toggle', 'Tab never reached the menu button');
    await page.keyboard.press('Enter');
    check(await nav.isVisible(), 'Enter on the menu button did not open it');
    return { ok: true };
  },
};

Object.assign(scenarios, moreScenarios);

async function main() {
  const scenario = scenarios[scenarioName];
  if (!scenario || !baseUrl || !artifactDir) {
    console.error(`usage: node run.mjs {${Object.keys(scenarios).join('|')}} BASE_URL ARTIFACT_DIR [OPTIONS_JSON]`);
    return 2;
  }
  fs.mkdirSync(artifactDir, { recursive: true });
  fs.rmSync(path.join(artifactDir, `${scenarioName}-failure.png`), { force: true });
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-ui-chromium-'));
  const phone = scenarioName === 'phone';
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_FLAGS,
    viewport: phone ? { width: 390, height: 844 } : { width: 1280, height: 900 },
    deviceScaleFactor: phone ? 3 : 1,
    isMobile: phone,
    hasTouch: phone,
  });
  const problems = [];
  const watch = (page) => {
    page.on('console', (message) => {
      if (message.type() !== 'error') return;
      // Asking without a session is how the login form comes up: those 401s are the point.
      if (scenarioName === 'login' && /status of 401/.test(message.text())) return;
      problems.push(`console error: ${message.text()} (${JSON.stringify(message.location())})`);
    });
    page.on('pageerror', (error) => problems.push(`uncaught: ${error.message}`));
    page.on('requestfailed', (request) => {
      const failure = request.failure();
      if (failure && failure.errorText !== 'net::ERR_ABORTED') problems.push(`request failed: ${request.url()} ${failure.errorText}`);
    });
  };
  context.on('page', watch);
  let code = 0;
  try {
    const page = context.pages()[0] || await context.newPage();
    watch(page);
    page.setDefaultTimeout(DEADLINE_MS);
    const result = await scenario(page);
    check(problems.length === 0, problems.join('\n'));
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } catch (error) {
    console.error(`${scenarioName}: ${error.stack || error.message}`);
    if (problems.length) console.error(`the page also reported:\n${problems.join('\n')}`);
    try { await shot(context.pages()[0], 'failure'); } catch { /* the screenshot is a help, not the verdict */ }
    code = 1;
  } finally {
    await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
  return code;
}

process.exitCode = await main();
