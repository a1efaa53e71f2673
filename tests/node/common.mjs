// What every script shares: the seed's queue names (fixed here on purpose, not read from Soundy,
// so a test fails if the two sides drift apart), the Redis connection and the output format.
import IORedis from 'ioredis';

export const QUEUE_NAME = 'audio-analysis';
export const JOB_NAME = 'processAudio';
// Soundy's SOUNDY_QUEUE_PREFIX; BullMQ's default is 'bull'.
export const PREFIX = process.env.QUEUE_PREFIX || 'bull';
export const WAIT_MS = Number(process.env.WAIT_MS || 60000);

export function connect() {
  if (!process.env.REDIS_URL) throw new Error('REDIS_URL is not set');
  // maxRetriesPerRequest: null is what BullMQ requires of its connections.
  return new IORedis(process.env.REDIS_URL, { maxRetriesPerRequest: null });
}

// One JSON object per line on stdout; the Python side reads them.
export function emit(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
}
