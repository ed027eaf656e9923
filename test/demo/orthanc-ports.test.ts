/**
 * Orthanc is told its ports in its configuration before it starts, so another process (another
 * Jest worker's server) can take one meanwhile: the harness starts it again on other ports, and
 * never takes the server answering on the taken port for its Orthanc.
 */
import { listenOnLoopback, type ListeningServer } from '../support/loopback';
import { startOrthanc, type RunningOrthanc } from '../support/orthanc';

const PORT_IN_USE = /The TCP port of the (HTTP|DICOM) server is privileged or already in use/;

async function freeNow(): Promise<number> {
  const { server, port } = await listenOnLoopback();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Hands out `first` in order, then ports free at the time of asking, as the harness picks them. */
function portsAfter(first: number[]): () => Promise<number> {
  const queue = [...first];
  return async () => queue.shift() ?? freeNow();
}

/** Holds a port and answers any request there as a healthy server would. */
let squatter: ListeningServer;
const orthancs: RunningOrthanc[] = [];

beforeAll(async () => {
  squatter = await listenOnLoopback((_request, response) => response.writeHead(200, { 'Content-Type': 'application/json' }).end('{"Name":"not Orthanc"}'));
});

afterAll(async () => {
  await Promise.all(orthancs.map((orthanc) => orthanc.stop()));
  await new Promise((resolve) => squatter.server.close(resolve));
});

async function started(pickPort: () => Promise<number>): Promise<RunningOrthanc> {
  const orthanc = await startOrthanc({}, pickPort);
  orthancs.push(orthanc);
  return orthanc;
}

async function nameAt(url: string): Promise<string> {
  return ((await (await fetch(`${url}/system`)).json()) as { Name: string }).Name;
}

it('starts on other ports when its HTTP port was taken before it bound it, not fooled by the server there', async () => {
  const orthanc = await started(portsAfter([squatter.port]));
  expect(orthanc.httpPort).not.toBe(squatter.port);
  expect(orthanc.log()).toMatch(PORT_IN_USE);
  expect(await nameAt(orthanc.url)).toBe('KneeTumorTest');
});

it('starts on other ports when its DICOM port was taken before it bound it', async () => {
  const orthanc = await started(portsAfter([await freeNow(), squatter.port]));
  expect(orthanc.log()).toMatch(PORT_IN_USE);
  expect(await nameAt(orthanc.url)).toBe('KneeTumorTest');
});
