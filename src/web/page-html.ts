/**
 * The page's HTML. The lists of rooms are filled in here as well as by the
 * script, so a reader without script (or `chromium --dump-dom`, which does not
 * wait for the WebSocket) still sees them. Every value is escaped; the
 * script and style come from files (the CSP forbids inline ones).
 */
export interface InitialRooms {
  /** Rooms advertised on the LAN. */
  lan: string[];
  /** Rooms the service is in. */
  joined: string[];
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

function roomItems(rooms: string[], empty: string): string {
  if (rooms.length === 0) return `<li class="empty">${escapeHtml(empty)}</li>`;
  return rooms.map((r) => `<li class="room-item" data-room="${escapeHtml(r)}"><span class="room-name">${escapeHtml(r)}</span></li>`).join('');
}

export function pageHtml(rooms: InitialRooms): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>clique</title>
<link rel="stylesheet" href="/assets/app.css">
<script type="module" src="/assets/app.js"></script>
</head>
<body>
<div id="app">
<header class="top"><h1>clique</h1><p id="connection" role="status">connecting…</p></header>
<nav id="sidebar" aria-label="Rooms and people">
<section aria-labelledby="joined-title"><h2 id="joined-title">Your rooms</h2><ul id="joined-rooms">${roomItems(rooms.joined, 'none yet')}</ul></section>
<section aria-labelledby="lan-title"><h2 id="lan-title">Rooms on the network</h2><ul id="lan-rooms">${roomItems(rooms.lan, 'no rooms found')}</ul></section>
</nav>
</div>
</body>
</html>
`;
}
