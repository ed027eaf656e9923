/**
 * Starts a real Orthanc (Debian's, with the DICOMweb and GDCM plugins) on free loopback ports with
 * a temporary storage folder, for the demo or one test file. Orthanc binds every interface unless told not to,
 * so remote access is refused and only loopback clients can talk to it. It is killed when this
 * process exits, by any path but SIGKILL. Supervised (the demo), an Orthanc that exits without
 * stop() (killed, crashed) is started again on the same ports over the same storage.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

export interface OrthancOptions {
  /** Lua scripts loaded at start (e.g. the stable-study trigger). */
  luaScripts?: string[];
  /** Seconds without new instances before a study is stable (Orthanc's StableAge). */
  stableAgeSeconds?: number;
  /** When set, HTTP basic auth is required with these credentials. */
  credentials?: { username: string; password: string };
  /** Whether the GDCM plugin decodes for Orthanc (default true; it renders JPEG 2000). */
  gdcm?: boolean;
  /** Start Orthanc again when it exits unasked; told of each restart, and why when one fails. */
  supervise?: OrthancSupervisor;
}

export interface OrthancSupervisor {
  /** `cause`: how the previous process ended ("SIGKILL", "exit code 1"). */
  restarted(cause: string): void;
  /** The restarted Orthanc did not answer: the caller decides what to do without a PACS. */
  gaveUp(reason: string): void;
}

export interface RunningOrthanc {
  url: string;
  dicomWebUrl: string;
  httpPort: number;
  /** What Orthanc has printed so far, for a failing test's message. */
  log(): string;
  stop(): Promise<void>;
}

/**
 * A port free now. Orthanc is an external process whose ports are written into its configuration
 * before it starts, so it cannot listen on 0 as our own servers do: the port may be taken before
 * Orthanc binds it, and startOrthanc then tries again with others.
 */
async function unusedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Orthanc's own words when its HTTP (error 2003) or DICOM (2004) port is taken; it then exits. */
const PORT_IN_USE = /The TCP port of the (HTTP|DICOM) server is privileged or already in use/;
/** Starts on freshly picked ports after a port race, before giving up. */
const PORT_ATTEMPTS = 5;
/** Orthanc's log line once both its servers listen. */
const STARTED = 'Orthanc has started';

/**
 * Up once this launch (its log from `since` on) says it started and its REST API answers: the log
 * line tells our Orthanc apart from whatever else may answer on the port it failed to bind.
 */
async function waitUntilUp(url: string, headers: Record<string, string>, child: ChildProcess, since: number, log: () => string): Promise<void> {
  const deadline = Date.now() + 20000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`Orthanc exited with ${child.exitCode}:\n${log()}`);
    if (log().slice(since).includes(STARTED)) {
      try {
        const response = await fetch(`${url}/system`, { headers });
        if (response.ok) return;
      } catch {
        // not answering yet
      }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`Orthanc did not answer within 20 s:\n${log()}`);
}

function orthancConfig(dir: string, options: OrthancOptions, httpPort: number, dicomPort: number): Record<string, unknown> {
  return {
    Name: 'KneeTumorTest',
    StorageDirectory: path.join(dir, 'db'),
    IndexDirectory: path.join(dir, 'db'),
    Plugins: ['/usr/share/orthanc/plugins/libOrthancDicomWeb.so', '/usr/share/orthanc/plugins/libOrthancGdcm.so'],
    HttpPort: httpPort,
    DicomPort: dicomPort,
    RemoteAccessAllowed: false,
    AuthenticationEnabled: Boolean(options.credentials),
    RegisteredUsers: options.credentials ? { [options.credentials.username]: options.credentials.password } : {},
    StableAge: options.stableAgeSeconds ?? 60,
    LuaScripts: options.luaScripts ?? [],
    ConcurrentJobs: 1,
    DicomWeb: { Enable: true, Root: '/dicom-web/', EnableWado: true, Ssl: false, StudiesMetadata: 'Full', SeriesMetadata: 'Full' },
    Gdcm: { Enable: options.gdcm ?? true },
  };
}

/** `pickPort`: where its ports come from (a test hands it one that is taken). */
export async function startOrthanc(options: OrthancOptions = {}, pickPort: () => Promise<number> = unusedPort): Promise<RunningOrthanc> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'orthanc-test-'));
  const configPath = path.join(dir, 'orthanc.json');
  let output = '';
  /** The Orthanc process now running (or last started). */
  let child: ChildProcess | undefined;
  const launch = () => {
    const started = spawn('/usr/sbin/Orthanc', [configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    started.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    started.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    child = started;
    return started;
  };
  // The last resort when the process exits without stop() (process.exit on a path that forgot it,
  // or a signal during the start): an Orthanc left running would have no parent.
  const killOnExit = () => {
    child?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', killOnExit);
  const headers: Record<string, string> = options.credentials
    ? { Authorization: `Basic ${Buffer.from(`${options.credentials.username}:${options.credentials.password}`).toString('base64')}` }
    : {};
  const startOnUnusedPorts = async (): Promise<{ first: ChildProcess; httpPort: number }> => {
    for (let attempt = 1; ; attempt++) {
      const httpPort = await pickPort();
      await writeFile(configPath, JSON.stringify(orthancConfig(dir, options, httpPort, await pickPort()), null, 2));
      const since = output.length;
      const first = launch();
      try {
        await waitUntilUp(`http://127.0.0.1:${httpPort}`, headers, first, since, () => output);
        return { first, httpPort };
      } catch (error) {
        if (attempt === PORT_ATTEMPTS || !PORT_IN_USE.test(output.slice(since))) throw error;
      }
    }
  };
  let started: { first: ChildProcess; httpPort: number };
  try {
    started = await startOnUnusedPorts();
  } catch (error) {
    process.removeListener('exit', killOnExit);
    child?.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  const { first, httpPort } = started;
  const url = `http://127.0.0.1:${httpPort}`;
  let stopping = false;
  // A restart keeps the ports: the trigger's callers and the service know this URL.
  const supervise = (watched: ChildProcess, supervisor: OrthancSupervisor) => {
    watched.once('exit', (code, signal) => {
      if (stopping) return;
      const since = output.length;
      const restarted = launch();
      waitUntilUp(url, headers, restarted, since, () => output).then(
        () => {
          supervise(restarted, supervisor);
          supervisor.restarted(signal ?? `exit code ${code}`);
        },
        // The first line says why ("Orthanc exited with 1:"); the rest is Orthanc's whole log.
        (error: Error) => {
          if (!stopping) supervisor.gaveUp(error.message.split('\n')[0]?.replace(/:$/, '') ?? 'it did not start');
        },
      );
    });
  };
  if (options.supervise) supervise(first, options.supervise);
  return {
    url,
    dicomWebUrl: `${url}/dicom-web`,
    httpPort,
    log: () => output,
    async stop() {
      stopping = true;
      process.removeListener('exit', killOnExit);
      const current = child ?? first;
      if (current.exitCode === null) {
        const exited = new Promise((r) => current.once('exit', r));
        current.kill('SIGTERM');
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, 5000)))]);
        clearTimeout(timer);
        if (current.exitCode === null) current.kill('SIGKILL');
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
