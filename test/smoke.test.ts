import PQueue from 'p-queue';
import { GatewayError } from '../core/errors.js';

test('toolchain loads ESM packages and project modules', async () => {
  const queue = new PQueue({ concurrency: 1 });
  const value = await queue.add(async () => new GatewayError('not_found').status);
  expect(value).toBe(404);
});
