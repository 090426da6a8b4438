// Shared pieces of the conformance suite: the emulator as a real process, the two official
// TypeScript SDK versions, and a logger that records everything a client logs.

import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import * as readline from "node:readline";
import { fileURLToPath } from "node:url";

import * as sdk15 from "sdk15";
import * as sdk20 from "sdk20";

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** The SDK versions under test: `@lmstudio/sdk` 1.5.0 and 2.0.0, installed side by side. */
export const SDKS = [
  { version: "1.5.0", LMStudioClient: sdk15.LMStudioClient },
  { version: "2.0.0", LMStudioClient: sdk20.LMStudioClient },
];

export const GEMMA = "google/gemma-3-1b";
export const QWEN = "qwen/qwen3-8b";
export const NOMIC = "text-embedding-nomic-embed-text-v1.5";

/** The command that runs `lmsprofiles emulator`: the repository's venv, else the PATH. */
function emulatorCommand() {
  const venvPython = join(REPO, ".venv", "bin", "python");
  return existsSync(venvPython) ? [venvPython, "-m", "lmsprofiles"] : ["lmsprofiles"];
}

/**
 * Start `lmsprofiles emulator --port 0` (with `--catalog` if given) and wait for its `listening on HOST:PORT` line.
 *
 * Everything the emulator writes to stderr is kept: it logs every protocol warning there (one it
 * sends and one a client sends it), so a conforming run leaves stderr empty. `stop()` sends
 * SIGTERM, waits for the exit and returns the whole of stderr.
 */
export async function startEmulator({ catalog } = {}) {
  const [command, ...prefix] = emulatorCommand();
  const options = catalog === undefined ? [] : ["--catalog", catalog];
  const child = spawn(command, [...prefix, "emulator", "--port", "0", ...options], {
    cwd: REPO,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.setEncoding("utf-8");
  child.stderr.on("data", chunk => {
    stderr += chunk;
  });
  const exited = new Promise(done => child.on("close", code => done(code)));
  const killOnExit = () => child.kill("SIGKILL");
  process.on("exit", killOnExit);
  exited.then(() => process.off("exit", killOnExit));
  const lines = readline.createInterface({ input: child.stdout });
  const host = await new Promise((found, failed) => {
    lines.on("line", line => {
      const match = /^listening on (\S+)$/.exec(line);
      if (match !== null) {
        found(match[1]);
      }
    });
    exited.then(code => failed(new Error(`emulator exited with ${code} before listening:\n${stderr}`)));
  });
  return {
    host,
    stderr: () => stderr,
    async stop() {
      child.kill("SIGTERM");
      const code = await exited;
      if (code !== 0) {
        throw new Error(`emulator exited with ${code}:\n${stderr}`);
      }
      return stderr;
    },
  };
}

/**
 * A logger for the SDK's `logger` option that records every call. The SDKs log protocol
 * problems (a message that fails their schema, a communication warning from the server) at
 * warn or error level; `problems()` returns those.
 */
export function recordingLogger() {
  const entries = [];
  const record = level => (...parts) => {
    entries.push({ level, text: parts.map(part => (typeof part === "string" ? part : String(part))).join(" ") });
  };
  return {
    logger: { info: record("info"), warn: record("warn"), error: record("error"), debug: record("debug") },
    entries,
    problems: () => entries.filter(entry => entry.level === "warn" || entry.level === "error"),
  };
}
