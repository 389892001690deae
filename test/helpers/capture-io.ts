// A CliIo that keeps what a command prints, for running CLI commands in-process.
import type { CliIo } from "../../src/cli/io.js";

export interface CapturedIo extends CliIo {
  stdout: string;
  stderr: string;
}

export function captureIo(): CapturedIo {
  const io: CapturedIo = {
    stdout: "",
    stderr: "",
    out: (s) => void (io.stdout += s.endsWith("\n") ? s : `${s}\n`),
    err: (s) => void (io.stderr += s.endsWith("\n") ? s : `${s}\n`),
  };
  return io;
}

/** Runs `fn` with a fresh captured io; returns the exit code and what was printed. */
export async function runIn(fn: (io: CliIo) => Promise<number>): Promise<{ code: number; stdout: string; stderr: string }> {
  const io = captureIo();
  const code = await fn(io);
  return { code, stdout: io.stdout, stderr: io.stderr };
}
