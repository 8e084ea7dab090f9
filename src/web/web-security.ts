import { randomBytes, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import { WebError } from './web-error.js';

/**
 * The rules that keep the page to the person who started it: a random token
 * (in the URL once, then an HttpOnly cookie), a Host header naming exactly the
 * address we serve (DNS rebinding), an Origin of that same address on the
 * WebSocket (cross-site WebSocket hijacking), and a CSP without inline script.
 */

/** 32 random bytes, URL-safe. */
export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Cookies are not per port: the name carries it, so two pages on one host keep their own tokens. */
export function tokenCookieName(port: number): string {
  return `clique-token-${port}`;
}

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Sent with every answer, refusals included. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  // The token is in the first URL: never hand it to another site.
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

export function isLoopback(address: string): boolean {
  return address === '::1' || /^127\./.test(address);
}

/** The address to serve on: an IP literal of one interface (a wildcard would leave us no Host to check against). */
export function checkListenAddress(address: string): void {
  if (isIP(address) === 0) throw new WebError('bad-listen-address', `--listen: ${JSON.stringify(address)} is not an IP address`);
  if (address === '0.0.0.0' || address === '::') throw new WebError('bad-listen-address', `--listen: give the address of one interface, not the wildcard ${address}`);
}

/** What `clique web --listen` says before serving beyond this machine (undefined on loopback). */
export function listenWarning(address: string): string | undefined {
  if (isLoopback(address)) return undefined;
  return `warning: serving the page on ${address}, beyond this machine: anyone there who learns the URL's token can chat as you`;
}

/** `host:port` as it appears in a Host header and in URLs (IPv6 in brackets). */
export function hostPort(address: string, port: number): string {
  return isIP(address) === 6 ? `[${address}]:${port}` : `${address}:${port}`;
}

/** The Host header values we answer to: the served address, and `localhost` when that is loopback. */
export function allowedHosts(address: string, port: number): Set<string> {
  const hosts = new Set([hostPort(address, port)]);
  if (isLoopback(address)) hosts.add(`localhost:${port}`);
  return hosts;
}

export function hostAllowed(host: string | undefined, allowed: ReadonlySet<string>): boolean {
  return host !== undefined && allowed.has(host.toLowerCase());
}

/** A WebSocket must come from a page of ours: Origin `http://<allowed host>`. A missing Origin is refused too. */
export function originAllowed(origin: string | undefined, allowed: ReadonlySet<string>): boolean {
  if (origin === undefined || !origin.startsWith('http://')) return false;
  return allowed.has(origin.slice('http://'.length).toLowerCase());
}

/** Constant-time comparison, so the token cannot be guessed a character at a time. */
export function tokenMatches(given: string | undefined, token: string): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** One cookie's value from a Cookie header. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
