import { createHash, randomBytes } from 'node:crypto';
import { localHostLabel } from '../../src/linklocal/presence-publisher.js';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { WebSocket } from 'ws';
import { ServiceClient } from '../../src/service/service-client.js';
import { repoRoot } from '../support/cli-runner.js';
import { waitFor } from '../support/wait.js';
import { cleanUp, person, run, start, waitForEvent, type Person, type Proc } from '../service/service-people.js';
import { buildPage, closeBrowsers, dumpDom, noChromium, openBrowser } from './browser.js';

/**
 * The page in real Chromium, with three people of their own identities
 * (HOME, XDG_RUNTIME_DIR, XDG_DATA_HOME) in the private network namespace the
 * test runs in (`unshare -n`): alice and bob each in a browser through their
 * own `clique web`, carol in a terminal (`clique listen`, `clique send`).
 */
const ROOM = 'lobby';
// Names are user@host (the host as the library would fill it in).
const ALICE = `alice${process.pid}@${localHostLabel()}`;
const BOB = `bob${process.pid}@${localHostLabel()}`;
const CAROL = `carol${process.pid}@${localHostLabel()}`;
const SCREENSHOTS = join(repoRoot, 'docs/screenshots');

/** Lines of the issue that must stay inert and readable. */
const HOSTILE = {
  img: '<img src=x onerror="window.pwned=1;alert(1)">',
  link: '<a href="javascript:alert(2)">click me</a>',
  script: '<script>window.pwned=2</script>',
  rtl: 'invoice\u202Egnp.exe is a trap',
};

interface WebRun {
  proc: Proc;
  url: string;
}

async function startWeb(p: Person, label: string): Promise<WebRun> {
  const proc = start(p, label, ['web']);
  await waitForEvent(proc, 'the URL', (e) => e['event'] === 'text');
  return { proc, url: String(proc.events[0]!['line']) };
}

async function say(page: Page, line: string): Promise<void> {
  await page.fill('#message-input', line);
  await page.press('#message-input', 'Enter');
}

function logLine(page: Page, text: string): ReturnType<Page['locator']> {
  return page.locator('#log .line', { hasText: text });
}

describe.skipIf(noChromium !== undefined)('clique web in Chromium: two browsers and a terminal in one room', () => {
  let alice: Person, bob: Person, carol: Person;
  let aliceWeb: WebRun, bobWeb: WebRun;
  let pageA: Page, pageB: Page;
  let bobName: string, aliceName: string;
  const dialogs: string[] = [];
  const consoleLines: string[] = [];

  beforeAll(async () => {
    await buildPage();
    alice = person('web-a');
    bob = person('web-b');
    carol = person('web-c');
    expect((await run(alice, ['up', '--daemon', '--name', ALICE, '--nick', 'Alice'])).code).toBe(0);
    expect((await run(bob, ['up', '--daemon', '--name', BOB, '--nick', 'Bob'])).code).toBe(0);
    expect((await run(carol, ['up', '--daemon', '--name', CAROL, '--nick', 'Carol'])).code).toBe(0);
    for (const [p, set] of [[alice, (n: string) => (aliceName = n)], [bob, (n: string) => (bobName = n)]] as const) {
      const client = await ServiceClient.connect(p.paths.socket);
      set(client.identity.name);
      client.close();
    }
    aliceWeb = await startWeb(alice, 'alice web');
    bobWeb = await startWeb(bob, 'bob web');
    pageA = await (await openBrowser()).newPage();
    pageB = await (await openBrowser()).newPage();
    for (const page of [pageA, pageB]) {
      page.on('dialog', (d) => void (dialogs.push(d.message()), d.dismiss()));
      page.on('console', (m) => consoleLines.push(m.text()));
    }
    await pageA.goto(aliceWeb.url);
    await pageB.goto(bobWeb.url);
    for (const page of [pageA, pageB]) {
      await page.waitForSelector('body[data-ready="true"]', { state: 'attached' }).catch(async (error: unknown) => {
        throw new Error(`the page did not get ready: ${await page.locator('#connection').innerText().catch(() => '?')}; console: ${consoleLines.join(' | ')}`, { cause: error });
      });
    }
  }, 120_000);

  afterAll(async () => {
    await closeBrowsers();
    await cleanUp();
  }, 60_000);

  it('prints the URL with its token on the first line, and the token leaves the address bar', () => {
    expect(aliceWeb.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{43}$/);
    expect(pageA.url()).not.toContain('token');
  });

  it('a line typed in browser A reaches browser B and a terminal, and the reverse; joins are shown', async () => {
    await pageA.fill('#new-room', ROOM);
    await pageA.press('#new-room', 'Enter');
    await pageA.locator(`#joined-rooms li[data-room="${ROOM}"]`).waitFor();
    // Bob's page lists the room from the LAN (mDNS), and he joins it with its button.
    const lanRoom = pageB.locator(`#lan-rooms li[data-room="${ROOM}"] button`);
    await lanRoom.waitFor({ timeout: 30_000 });
    await lanRoom.click();
    await pageB.locator(`#joined-rooms li[data-room="${ROOM}"]`).waitFor();
    await logLine(pageA, 'Bob joined').waitFor();
    await pageA.locator(`#member-list [data-member="${bobName}"]`).waitFor();

    const listen = start(carol, 'carol listen', ['listen', ROOM, '--json']);
    await waitForEvent(listen, 'carol to be in the room', (e) => e['event'] === 'ready' && (e['members'] as string[]).includes(aliceName), 30_000);
    await logLine(pageA, 'Carol joined').waitFor();

    await say(pageA, 'hello from browser A');
    await logLine(pageB, 'hello from browser A').waitFor();
    await waitForEvent(listen, "alice's line", (e) => e['event'] === 'message' && e['text'] === 'hello from browser A');

    await say(pageB, '/me waves from browser B');
    await pageA.locator('#log .line.action', { hasText: 'waves from browser B' }).waitFor();
    expect(await pageA.locator('#log .line.action', { hasText: 'waves from browser B' }).innerText()).toContain('* Bob waves from browser B');
    await waitForEvent(listen, "bob's action", (e) => e['event'] === 'message' && e['kind'] === 'action' && e['text'] === 'waves from browser B');

    expect((await run(carol, ['send', ROOM, 'hello from the terminal, Alice'])).code).toBe(0);
    await logLine(pageA, 'hello from the terminal').waitFor();
    await logLine(pageB, 'hello from the terminal').waitFor();
    // Alice's nick is in it: her page highlights the line.
    expect(await logLine(pageA, 'hello from the terminal').getAttribute('class')).toContain('mention');
    expect(await logLine(pageB, 'hello from the terminal').getAttribute('class')).not.toContain('mention');
    await pageA.locator('#log .day').first().waitFor();
    await pageA.screenshot({ path: join(mkdirP(SCREENSHOTS), 'web-room.png') });
  });

  it('keeps hostile lines inert and readable', async () => {
    for (const line of Object.values(HOSTILE)) await say(pageA, line);
    await say(pageA, '/topic <b>bold</b> <img src=x onerror="window.pwned=3">');
    const long = `${'long line '.repeat(6000)}END`;
    await say(pageA, long);
    for (const line of Object.values(HOSTILE)) await logLine(pageB, line).waitFor();
    await pageB.locator('#log .show-all').waitFor();
    await pageB.locator('#conversation-topic', { hasText: '<b>bold</b>' }).waitFor();
    for (const page of [pageA, pageB]) {
      expect(await page.locator('#log img, #log a, #log script, #log b, #conversation-topic b, #conversation-topic img').count()).toBe(0);
      expect(await page.evaluate('window.pwned')).toBeUndefined();
      expect(await logLine(page, HOSTILE.img).locator('.text').innerText()).toBe(HOSTILE.img);
      expect(await logLine(page, HOSTILE.link).locator('.text').innerText()).toBe(HOSTILE.link);
      // The override is kept (readable as sent) but isolated: it cannot reorder the rest of the page.
      const rtl = logLine(page, 'gnp.exe').locator('.text');
      expect(await rtl.evaluate((e) => e.tagName)).toBe('BDI');
      expect(await rtl.innerText()).toBe(HOSTILE.rtl);
      // The long line shows its start and a button for the rest.
      const longLine = logLine(page, 'long line long line').last();
      expect((await longLine.locator('.text').innerText()).length).toBeLessThan(long.length);
      await longLine.locator('.show-all').click();
      expect(await longLine.locator('.show-all').count()).toBe(0);
      expect((await longLine.locator('.text').innerText()).length).toBe(long.length);
    }
    expect(dialogs).toEqual([]);
    await pageB.screenshot({ path: join(mkdirP(SCREENSHOTS), 'web-hostile-lines.png') });
  });

  it('Up brings back the last line to edit', async () => {
    await say(pageB, 'a line with a tpyo');
    await logLine(pageA, 'a line with a tpyo').waitFor();
    await pageB.press('#message-input', 'ArrowUp');
    expect(await pageB.inputValue('#message-input')).toBe('a line with a tpyo');
    await pageB.fill('#message-input', '');
  });

  it('sends our own typing: the other page shows it while the composer has text, and not once it is emptied', async () => {
    await pageB.fill('#message-input', 'half a thought');
    await pageA.locator('#typing', { hasText: 'Bob is typing' }).waitFor();
    await pageB.fill('#message-input', '');
    // Polled from here: a string predicate would be eval'd in the page, which its CSP forbids.
    await expect.poll(() => pageA.locator('#typing').textContent(), { timeout: 30_000 }).toBe('');
  });

  it('shows a 1-1 chat, with an unread count on the contact', async () => {
    const bobInA = pageA.locator(`#contacts button[data-contact="${bobName}"]`);
    await bobInA.waitFor({ timeout: 30_000 });
    await bobInA.click();
    await say(pageA, 'psst, just for you');
    const aliceInB = pageB.locator(`#contacts button[data-contact="${aliceName}"]`);
    await aliceInB.locator('.badge', { hasText: '1' }).waitFor();
    await aliceInB.click();
    await logLine(pageB, 'psst, just for you').waitFor();
    await say(pageB, 'got it');
    await logLine(pageA, 'got it').waitFor();
    expect(await pageB.locator('#conversation-title').innerText()).toContain('Alice');
    await pageB.screenshot({ path: join(mkdirP(SCREENSHOTS), 'web-chat.png') });
  });

  /** Alice picks a new file of `size` random bytes called `name` in her page; its bytes, and the offer once bob's page shows it. */
  async function pickInAlicesPage(name: string, size: number): Promise<{ data: Buffer; offer: ReturnType<Page['locator']> }> {
    const data = randomBytes(size);
    const source = join(mkdtempSync(join(tmpdir(), 'clique-web-file-')), name);
    writeFileSync(source, data);
    await pageA.setInputFiles('#file-input', source);
    const offer = pageB.locator('#transfers li[data-state="offered"]', { hasText: name });
    await offer.waitFor({ timeout: 30_000 });
    return { data, offer };
  }

  /** Bob's downloads hold `name`, byte for byte `data` (compared by SHA-256). */
  function expectInBobsDownloads(name: string, data: Buffer): void {
    const saved = readFileSync(join(bob.env.HOME!, 'Downloads', name));
    expect(createHash('sha256').update(saved).digest('hex')).toBe(createHash('sha256').update(data).digest('hex'));
  }

  it('sends a file 1-1 from the page: the other page shows Accept, the file lands in its downloads intact', async () => {
    // Alice still has the chat with bob open.
    const { data, offer } = await pickInAlicesPage('page notes.bin', 300 * 1024);
    await offer.getByRole('button', { name: 'Accept page notes.bin' }).click();
    await pageB.locator('#transfers li[data-state="received"]', { hasText: 'page notes.bin' }).waitFor({ timeout: 30_000 });
    await pageA.locator('#transfers li[data-state="accepted"]', { hasText: 'page notes.bin' }).waitFor({ timeout: 30_000 });
    expectInBobsDownloads('page notes.bin', data);
    // The page may offer only what it sent up: any other path of the machine is refused by the page server.
    // (A string, run as is in the page: the browser's own WebSocket, with the page's cookie and Origin.)
    const refused = await pageA.evaluate(`new Promise((resolve) => {
      const socket = new WebSocket('ws://' + location.host + '/ws');
      socket.addEventListener('message', (m) => {
        const frame = JSON.parse(String(m.data));
        if (frame.id === 7) resolve(frame.error ? frame.error.code : 'accepted');
      });
      socket.addEventListener('open', () => socket.send(JSON.stringify({ id: 7, method: 'files.offer', params: { contact: 'x@y', path: '/etc/passwd' } })));
    })`);
    expect(refused).toBe('forbidden');
  });

  it('shares a file with the room from the page: a member\'s page accepts it, and it lands intact', async () => {
    await pageA.locator(`#joined-rooms li[data-room="${ROOM}"] button`).click();
    const { data, offer } = await pickInAlicesPage('room notes.bin', 200 * 1024);
    expect(await offer.innerText()).toContain(ROOM);
    await offer.getByRole('button', { name: 'Accept room notes.bin' }).click();
    await pageB.locator('#transfers li[data-state="received"]', { hasText: 'room notes.bin' }).waitFor({ timeout: 60_000 });
    expectInBobsDownloads('room notes.bin', data);
  });

  it('shows an invitation with a Join button', async () => {
    // Back in the room, alice invites bob into a second room; his page offers to join it.
    await pageA.fill('#new-room', 'back-room');
    await pageA.press('#new-room', 'Enter');
    await pageA.locator('#joined-rooms li[data-room="back-room"]').waitFor();
    expect((await run(alice, ['invite', bobName, 'back-room', '--reason', 'quiet here'])).code).toBe(0);
    const invitation = pageB.locator('#invitations .invitation', { hasText: 'back-room' });
    await invitation.waitFor();
    expect(await invitation.innerText()).toContain('quiet here');
    await invitation.getByRole('button', { name: 'Join back-room' }).click();
    await pageB.locator('#joined-rooms li[data-room="back-room"]').waitFor();
    await logLine(pageA, 'Bob joined').last().waitFor();
  });

  it('shows who is typing, and a member lost by silence as timed out', async () => {
    await pageA.locator(`#joined-rooms li[data-room="${ROOM}"] button`).click();
    const member = spawn(process.execPath, ['--import', 'tsx', 'test/web/typing-member.ts', `eve${process.pid}`, ROOM], { cwd: repoRoot, env: { ...alice.env } });
    const said: string[] = [];
    createInterface({ input: member.stdout }).on('line', (line) => said.push(line));
    try {
      await waitFor('eve to type', () => said.includes('typing'), 60_000);
      await pageA.locator('#typing', { hasText: 'Eve is typing' }).waitFor();
      member.stdin.write('stop\n');
      await waitFor('eve to stop', () => said.includes('stopped'));
      // Polled from here: a string predicate would be eval'd in the page, which its CSP forbids.
    await expect.poll(() => pageA.locator('#typing').textContent(), { timeout: 30_000 }).toBe('');
      member.kill('SIGKILL');
      await logLine(pageA, 'Eve left (timed out)').waitFor({ timeout: 90_000 });
    } finally {
      member.kill('SIGKILL');
    }
  }, 150_000);

  it('counts unread lines of a room that is not open, until it is opened', async () => {
    // Bob has back-room open; a line in lobby counts there.
    await pageB.locator('#joined-rooms li[data-room="back-room"] button').click();
    expect((await run(carol, ['send', ROOM, 'while bob looks elsewhere'])).code).toBe(0);
    const lobby = pageB.locator(`#joined-rooms li[data-room="${ROOM}"] button`);
    await lobby.locator('.badge', { hasText: '1' }).waitFor();
    expect(await lobby.locator('.badge').getAttribute('aria-label')).toBe('1 unread');
    await lobby.click();
    await logLine(pageB, 'while bob looks elsewhere').waitFor();
    expect(await lobby.locator('.badge').count()).toBe(0);
  });

  it('labels every control', async () => {
    const unlabelled = await pageA.evaluate(`[...document.querySelectorAll('input, select')].filter((e) => e.labels.length === 0).map((e) => e.id)`);
    expect(unlabelled).toEqual([]);
    const nameless = await pageA.evaluate(`[...document.querySelectorAll('button')].filter((b) => (b.getAttribute('aria-label') ?? b.textContent).trim() === '' && b.querySelector('bdi') === null).length`);
    expect(nameless).toBe(0);
  });

  it('keeps the keyboard focus where it was when the lists change', async () => {
    // Alice has back-room open and the keyboard on its button; a line in lobby redraws the lists (its unread count).
    await pageA.locator(`#joined-rooms li[data-room="back-room"] button`).click();
    await pageA.locator(`#joined-rooms li[data-room="back-room"] button`).focus();
    expect((await run(carol, ['send', ROOM, 'a line that redraws the lists'])).code).toBe(0);
    await pageA.locator(`#joined-rooms li[data-room="${ROOM}"] .badge`).waitFor();
    expect(await pageA.evaluate(`document.activeElement.closest('li').dataset.room`)).toBe('back-room');
  });

  it('shows a leave', async () => {
    await pageB.locator(`#joined-rooms li[data-room="${ROOM}"] button`).click();
    await pageA.locator(`#joined-rooms li[data-room="${ROOM}"] button`).click();
    await pageB.click('#leave-button');
    await pageB.locator(`#joined-rooms li[data-room="${ROOM}"]`).waitFor({ state: 'detached' });
    await logLine(pageA, 'Bob left').waitFor();
    await pageA.locator(`#member-list [data-member="${bobName}"]`).waitFor({ state: 'detached' });
  });

  it("a new page of the same person shows the room's history, and fits a phone-sized screen", async () => {
    const phone = await (await openBrowser({ width: 390, height: 844 })).newPage();
    await phone.goto(aliceWeb.url);
    await phone.waitForSelector('body[data-ready="true"]', { state: 'attached' });
    await phone.locator(`#joined-rooms li[data-room="${ROOM}"] button`).click();
    await logLine(phone, 'hello from browser A').waitFor();
    // Nothing is wider than the screen: no sideways scrolling.
    expect(await phone.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    await phone.evaluate('window.scrollTo(0, 0)');
    await phone.screenshot({ path: join(mkdirP(SCREENSHOTS), 'web-phone.png'), fullPage: false });
  });

  it('tells of a mention by a desktop notification when the page is not in front', async () => {
    const page = await pageA.context().newPage();
    // Notifications are granted and the page is behind another window: record what the page shows.
    await page.addInitScript(`
      window.shown = [];
      window.Notification = class { static permission = 'granted'; static requestPermission() { return Promise.resolve('granted'); } constructor(title, options) { window.shown.push({ title, body: options.body }); } };
      document.hasFocus = () => false;
    `);
    await page.goto(aliceWeb.url.replace(/\?token=.*$/, ''));
    await page.waitForSelector('body[data-ready="true"]', { state: 'attached' });
    expect((await run(carol, ['send', ROOM, 'Alice, are you there?'])).code).toBe(0);
    expect((await run(carol, ['send', ROOM, 'nobody in particular'])).code).toBe(0);
    await logLine(pageA, 'nobody in particular').waitFor();
    await expect.poll(() => page.evaluate('window.shown.length'), { timeout: 30_000 }).toBeGreaterThan(0);
    expect(await page.evaluate('window.shown')).toEqual([{ title: `Carol in ${ROOM}`, body: 'Alice, are you there?' }]);
    await page.close();
  });

  it('chromium --dump-dom of the printed URL shows a room another process advertises; without the token it is refused', async () => {
    // Bob's page lists alice's rooms from the LAN: bob left lobby, so it is there to be joined.
    const dom = await dumpDom(bobWeb.url);
    expect(dom.code).toBe(0);
    expect(dom.stdout).toMatch(/id="lan-rooms"[\s\S]*data-room="lobby"/);
    // Someone new: `clique web` starts their service, and the first page already lists the LAN's rooms.
    const dave = person('web-d');
    const daveWeb = await startWeb(dave, 'dave web');
    const first = await dumpDom(daveWeb.url);
    expect(first.stdout).toMatch(/id="lan-rooms"[\s\S]*data-room="lobby"/);
    const bare = bobWeb.url.replace(/\?token=.*$/, '');
    expect((await fetch(bare)).status).toBe(401);
    const refused = await dumpDom(bare);
    expect(refused.stdout).not.toContain('lan-rooms');
  });

  it('refuses a WebSocket with a foreign Origin even with the cookie, and one without the token', async () => {
    const port = new URL(aliceWeb.url).port;
    const token = new URL(aliceWeb.url).searchParams.get('token')!;
    const status = (headers: Record<string, string>): Promise<number> =>
      new Promise((resolve) => {
        const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, { headers });
        ws.once('open', () => (ws.close(), resolve(101)));
        ws.once('unexpected-response', (_req, res) => (ws.terminate(), resolve(res.statusCode ?? 0)));
        ws.once('error', () => undefined);
      });
    expect(await status({ origin: 'http://evil.example', cookie: `clique-token-${port}=${token}` })).toBe(403);
    expect(await status({ origin: `http://127.0.0.1:${port}` })).toBe(401);
    expect(await status({ origin: `http://127.0.0.1:${port}`, cookie: `clique-token-${port}=${token}` })).toBe(101);
    // A page of another origin in alice's own browser (which holds her cookie, and sends it: ports do not make
    // another site) cannot open it either: the Origin check is what refuses it.
    const evil = await pageA.context().newPage();
    await evil.goto(bobWeb.url);
    const result = await evil.evaluate(`new Promise((resolve) => {
      const ws = new WebSocket('ws://127.0.0.1:${port}/ws');
      ws.onopen = () => resolve('open');
      ws.onerror = () => resolve('refused');
    })`);
    await evil.close();
    expect(result).toBe('refused');
  });
});

function mkdirP(dir: string): string {
  mkdirSync(dir, { recursive: true });
  return dir;
}
