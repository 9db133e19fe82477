/** Where the CLI writes and how it talks HTTP (injected so tests run commands in-process). */
export interface CliIO {
  stdout(s: string): void;
  stderr(s: string): void;
  fetch: typeof fetch;
}

/** The process's stdout/stderr and global fetch. */
export const processIO: CliIO = {
  stdout: (s) => void process.stdout.write(s),
  stderr: (s) => void process.stderr.write(s),
  fetch: (...a) => fetch(...a),
};
