// The seed's worker with the analysis left out: BullMQ Worker, concurrency 5; each job moves its
// row processing -> completed and stores the JSON file named by RESULT_FILE as its result (the
// benchmark gives it a real Soundy result, so both stacks serve the same payload size).
import { readFileSync } from 'node:fs';
import { Worker } from 'bullmq';
import { PREFIX, QUEUE_NAME, makePool, makeRedis } from './common.mjs';

if (!process.env.RESULT_FILE) throw new Error('RESULT_FILE is not set');
const fixedResult = JSON.parse(readFileSync(process.env.RESULT_FILE, 'utf8'));
const result = JSON.stringify(fixedResult);
const pool = makePool();
const connection = makeRedis();
const concurrency = Number(process.env.WORKER_CONCURRENCY || 5);

const worker = new Worker(QUEUE_NAME, async (job) => {
  const { jobId } = job.data;
  await pool.query(`UPDATE jobs SET status = 'processing', updated_at = NOW() WHERE id = $1`, [jobId]);
  await pool.query(`UPDATE jobs SET status = 'completed', result = $2, updated_at = NOW() WHERE id = $1`,
    [jobId, result]);
  return fixedResult;
}, { connection, concurrency, prefix: PREFIX });

worker.on('failed', (job, err) => console.error('failed', job && job.id, err && err.message));
worker.on('ready', () => console.log(`replica worker pid=${process.pid} ready, concurrency ${concurrency}`));

async function shutdown() {
  await worker.close();
  await connection.quit();
  await pool.end();
  process.exit(0);
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
