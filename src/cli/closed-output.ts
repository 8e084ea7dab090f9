/**
 * `clique send --help | head -1`: the reader went away, so the next write
 * fails with EPIPE, which Node raises as an unheard 'error' event (a stack
 * trace on stderr). A CLI whose reader left has nothing more to say: it ends
 * quietly, as `cat` does (with the status it already had, 0 if none).
 * Commands that go on after their output closed (`listen` and `online` leave
 * the room or go offline politely) listen for 'error' themselves: then this
 * one stays out of the way.
 */
export function endQuietlyWhenOutputCloses(stream: NodeJS.WriteStream = process.stdout): void {
  const onError = (error: NodeJS.ErrnoException): void => {
    if (stream.listenerCount('error') > 1) return;
    if (error.code === 'EPIPE') process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
    // Any other output failure (a full disk behind a redirect): one line, not a stack.
    if (stream !== process.stderr) process.stderr.write(`clique: cannot write output: ${error.message}\n`);
    process.exit(1);
  };
  stream.on('error', onError);
}
