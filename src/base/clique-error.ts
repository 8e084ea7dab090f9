/**
 * Root of every error this library throws on purpose. Callers branch on `code`
 * (stable, kebab-case) rather than on message text, which is for humans.
 */
export class CliqueError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}
