// A Node BullMQ worker that takes one job from the queue, reports what it received and
// completes it. Prints {"id", "name", "data", "opts", "attemptsMade"} of that job; exits 1 if no
// job arrives within WAIT_MS.
import { Worker } from 'bullmq';
import { connect, emit, PREFIX, QUEUE_NAME, WAIT_MS } from './common.mjs';

const connection = connect();
let seen = null;
const done = new Promise((resolve) => {
  const worker = new Worker(
    QUEUE_NAME,
    async (job) => {
      seen = { id: job.id, name: job.name, data: job.data, opts: job.opts, attemptsMade: job.attemptsMade };
      return { consumedBy: 'node' };
    },
    { connection, prefix: PREFIX, concurrency: 1 },
  );
  worker.on('completed', () => resolve(worker));
  setTimeout(() => resolve(worker), WAIT_MS).unref();
});
const worker = await done;
await worker.close();
await connection.quit();
if (!seen) {
  console.error(`no job arrived within ${WAIT_MS} ms`);
  process.exit(1);
}
emit(seen);
