// An exception as an error boundary may log it: the error's class and the code locations of its
// stack, never its message. A message may quote the input that caused it (a header value, a
// number, a path), and logs carry no customer data; the frames are enough to find the bug.
export interface ErrorSummary {
  error: string;
  code: string | undefined;
  frames: string[] | undefined;
}

const MAX_FRAMES = 8;

export function errorSummary(err: unknown): ErrorSummary {
  if (!(err instanceof Error)) return { error: typeof err, code: undefined, frames: undefined };
  const code = (err as { code?: unknown }).code;
  return { error: err.name, code: typeof code === "string" ? code : undefined, frames: stackFrames(err.stack) };
}

/** The "at …" lines of a stack (its first line is the message). */
function stackFrames(stack: string | undefined): string[] | undefined {
  if (!stack) return undefined;
  const frames: string[] = [];
  for (const line of stack.split("\n")) {
    const t = line.trim();
    if (t.startsWith("at ")) frames.push(t);
    if (frames.length === MAX_FRAMES) break;
  }
  return frames;
}
