// bull-board (its Express adapter) on the queue, as an operator would run it next to the seed.
// Listens on 127.0.0.1:$PORT (0: a free port) under /admin/queues and prints {"port": N}.
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { Queue } from 'bullmq';
import express from 'express';
import { connect, emit, PREFIX, QUEUE_NAME } from './common.mjs';

const queue = new Queue(QUEUE_NAME, { connection: connect(), prefix: PREFIX });
const serverAdapter = new ExpressAdapter();
serverAdapter.setBasePath('/admin/queues');
createBullBoard({ queues: [new BullMQAdapter(queue, { readOnlyMode: true })], serverAdapter });

const app = express();
app.use('/admin/queues', serverAdapter.getRouter());
const server = app.listen(Number(process.env.PORT || 0), '127.0.0.1', () => {
  emit({ port: server.address().port });
});
process.on('SIGTERM', () => server.close(() => queue.close().then(() => process.exit(0))));
