import { CliqueError } from '../base/clique-error.js';

/** Codes: 'bad-listen-address' (not an IP literal, or a wildcard), 'no-assets' (the page was not built), 'listen-failed'. */
export class WebError extends CliqueError {}
