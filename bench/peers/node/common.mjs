// What the API and the worker share: the seed's queue and job names, one pg Pool and one ioredis
// connection per process, and the jobs table.
import pg from 'pg';
import IORedis from 'ioredis';

export const QUEUE_NAME = 'audio-analysis';
export const JOB_NAME = 'processAudio';
// BullMQ's key prefix; the benchmark gives each run its own so runs never share keys.
export const PREFIX = process.env.QUEUE_PREFIX || 'bull';

export function makePool() {
  if (!process.env.DATABASE_URL) throw new Error('DATABASE_URL is not set');
  return new pg.Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.PG_POOL_MAX || 10) });
}

export function makeRedis() {
  if (!process.env.REDIS_URL) throw new Error('REDIS_URL is not set');
  // maxRetriesPerRequest: null is what BullMQ requires of its connections.
  return new IORedis(process.env.REDIS_URL, { maxRetriesPerRequest: null });
}

// The seed's jobs row: pending -> processing -> completed, timestamps from the database clock.
export const SCHEMA = `CREATE TABLE IF NOT EXISTS jobs (
  id uuid PRIMARY KEY,
  file_key text NOT NULL,
  mode text NOT NULL,
  status text NOT NULL,
  result jsonb,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
)`;
