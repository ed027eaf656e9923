/**
 * The guard that keeps the analysis thread from being ended inside a native call: a stop waits
 * for the calls in progress, and no new call of the stopped task starts; other tasks go on.
 */
import { createThreadStopState, nativeCallGuard, stopBetweenNativeCalls } from '../../server/src/pipeline/thread-stop';

function deferred(): { promise: Promise<string>; resolve: (value: string) => void } {
  let resolve: (value: string) => void = () => undefined;
  const promise = new Promise<string>((r) => (resolve = r));
  return { promise, resolve };
}

it('waits for the native call in progress, then refuses new calls of the stopped task only', async () => {
  const state = createThreadStopState();
  let task = 1;
  const guard = nativeCallGuard(state, () => task, () => new Error('stopped'));
  const native = deferred();
  const running = guard(() => native.promise);

  let stopped = false;
  const stop = stopBetweenNativeCalls(state, 1, 1).then(() => (stopped = true));
  await new Promise((resolve) => setTimeout(resolve, 30));
  expect(stopped).toBe(false);

  native.resolve('done');
  expect(await running).toBe('done');
  await stop;
  expect(stopped).toBe(true);

  await expect(guard(async () => 'not run')).rejects.toThrow('stopped');
  task = 2;
  expect(await guard(async () => 'next task')).toBe('next task');
});

it('never stops the loading and warm-up (task 0)', async () => {
  const state = createThreadStopState();
  const guard = nativeCallGuard(state, () => 0, () => new Error('stopped'));
  await stopBetweenNativeCalls(state, 1, 1);
  expect(await guard(async () => 'loaded')).toBe('loaded');
});
