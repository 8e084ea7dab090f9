/** The human text of anything thrown: an Error's message, or the value itself as a string. */
export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
