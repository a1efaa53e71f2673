// The seed's API: POST /api/audio/analyze writes a pending jobs row, then queues
// audioQueue.add('processAudio', {jobId, fileKey, mode}); GET /api/jobs/:id reads the row.
import express from 'express';
import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { JOB_NAME, PREFIX, QUEUE_NAME, SCHEMA, makePool, makeRedis } from './common.mjs';

const pool = makePool();
await pool.query(SCHEMA);
const connection = makeRedis();
const audioQueue = new Queue(QUEUE_NAME, { connection, prefix: PREFIX });

const app = express();
app.use(express.json());

app.post('/api/audio/analyze', async (req, res) => {
  const { fileKey, mode = 'genre' } = req.body || {};
  if (!fileKey) return res.status(400).json({ error: 'fileKey is required' });
  const jobId = randomUUID();
  const { rows } = await pool.query(
    `INSERT INTO jobs (id, file_key, mode, status, created_at, updated_at)
     VALUES ($1, $2, $3, 'pending', NOW(), NOW()) RETURNING *`,
    [jobId, fileKey, mode]);
  await audioQueue.add(JOB_NAME, { jobId, fileKey, mode }, {
    jobId: `analysis-${jobId}`,
    attempts: 3,
    backoff: { type: 'exponential', delay: 1000 },
    removeOnComplete: 50,
    removeOnFail: 100,
  });
  res.status(202).json({ job: rows[0] });
});

app.get('/api/jobs/:id', async (req, res) => {
  const { rows } = await pool.query('SELECT * FROM jobs WHERE id = $1', [req.params.id]);
  if (rows.length === 0) return res.status(404).json({ error: 'not found' });
  res.json(rows[0]);
});

app.get('/health', (req, res) => res.json({ ok: true }));

const port = Number(process.env.PORT || 3000);
const server = app.listen(port, '127.0.0.1', () => console.log(`replica api pid=${process.pid} on 127.0.0.1:${port}`));

async function shutdown() {
  server.close();
  await audioQueue.close();
  await connection.quit();
  await pool.end();
  process.exit(0);
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
