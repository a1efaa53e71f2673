// A producer that adds a job the way the seed's API does, then waits for BullMQ to finish it.
// Usage: node produce.mjs '{"jobId": "...", "fileKey": "...", "mode": "genre"}'
// Prints {"event": "added", ...} once the job is in Redis, then {"event": "finished", ...} with
// the job's final state read back from Redis (or exits 1 if it has not finished within WAIT_MS).
import { Job, Queue, QueueEvents } from 'bullmq';
import { connect, emit, JOB_NAME, PREFIX, QUEUE_NAME, WAIT_MS } from './common.mjs';

const data = JSON.parse(process.argv[2]);
const connection = connect();
const queue = new Queue(QUEUE_NAME, { connection, prefix: PREFIX });
const events = new QueueEvents(QUEUE_NAME, { connection: connect(), prefix: PREFIX });
await events.waitUntilReady();

// The seed's API: queue.add('processAudio', {jobId, fileKey, mode}, <these options>).
const job = await queue.add(JOB_NAME, data, {
  jobId: 'analysis-' + data.jobId,
  attempts: 3,
  backoff: { type: 'exponential', delay: 1000 },
  removeOnComplete: 50,
  removeOnFail: 100,
});
emit({ event: 'added', id: job.id, name: job.name });

let outcome;
try {
  outcome = { returnvalue: await job.waitUntilFinished(events, WAIT_MS) };
} catch (err) {
  outcome = { error: String(err && err.message) };
}
const stored = await Job.fromId(queue, job.id);
const state = await job.getState();
emit({
  event: 'finished',
  id: job.id,
  state,
  attemptsMade: stored ? stored.attemptsMade : null,
  failedReason: stored ? stored.failedReason : null,
  returnvalue: stored ? stored.returnvalue : null,
  ...outcome,
});
await events.close();
await queue.close();
await connection.quit();
process.exit(state === 'completed' || state === 'failed' ? 0 : 1);
