/**
 * A hostile XEP-0174 peer, run as its own process by linklocal-attacks.test.ts
 * (inside the test's private network namespace). Prints JSON lines.
 *
 *   forge HOST PORT SOURCE FROM TO TEXT   one stream from SOURCE claiming FROM, with one message;
 *                                         prints what came back once the connection is closed
 *   flood HOST PORT SOURCE N MAX_MS       N connections from SOURCE that never send a header,
 *                                         reopened as soon as they are closed, until SIGTERM or MAX_MS
 */
import net from 'node:net';

const [, , mode, host = '', portText = '', source = '', ...rest] = process.argv;
const port = Number(portText);
const print = (value: Record<string, unknown>): void => void process.stdout.write(`${JSON.stringify(value)}\n`);

if (mode === 'forge') {
  const [from = '', to = '', text = ''] = rest;
  const socket = net.connect({ host, port, localAddress: source });
  let received = '';
  socket.on('connect', () => {
    socket.write(
      `<?xml version='1.0' encoding='UTF-8'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to="${to}" from="${from}" version="1.0">` +
        `<message type="chat" from="${from}" to="${to}"><body>${text}</body></message>`,
    );
    print({ event: 'sent', local: socket.localAddress });
  });
  socket.on('data', (chunk: Buffer) => (received += chunk.toString('utf8')));
  socket.on('error', () => undefined);
  socket.on('close', () => {
    print({ event: 'closed', received });
    process.exit(0);
  });
  setTimeout(() => {
    print({ event: 'still-open', received });
    process.exit(1);
  }, 30_000).unref();
} else if (mode === 'flood') {
  const [countText = '500', maxMsText = '60000'] = rest;
  const stats = { connects: 0, refusedOrClosed: 0, open: 0 };
  let stopped = false;
  const sockets = new Set<net.Socket>();
  const open = (): void => {
    if (stopped) return;
    const socket = net.connect({ host, port, localAddress: source });
    sockets.add(socket);
    stats.connects += 1;
    socket.on('error', () => undefined);
    socket.on('close', () => {
      sockets.delete(socket);
      if (stopped) return;
      stats.refusedOrClosed += 1;
      setImmediate(open);
    });
  };
  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    for (const socket of sockets) socket.destroy();
    print({ event: 'stopped', ...stats });
    process.exit(0);
  };
  for (let i = 0; i < Number(countText); i++) open();
  const progress = setInterval(() => print({ event: 'progress', ...stats, open: sockets.size }), 200);
  progress.unref();
  setTimeout(stop, Number(maxMsText));
  process.on('SIGTERM', stop);
} else {
  process.stderr.write(`unknown mode ${String(mode)}\n`);
  process.exit(2);
}
