import { CliqueError } from '../base/clique-error.js';

/** Bad arguments or input: the CLI prints it as one line and exits with status 2. */
export class UsageError extends CliqueError {
  constructor(message: string) {
    super('usage', message);
  }
}
