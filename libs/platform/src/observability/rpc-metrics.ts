import { Counter, Histogram } from 'prom-client';

/** Every message a service handles, by pattern and outcome (`ok`, the contract error code, or `expired`: dropped unrun). */
export const rpcMessages = new Counter({
  name: 'rpc_messages_total',
  help: 'Messages handled by this service, by pattern and outcome (ok, the error code, or expired: dropped unrun, its caller gone)',
  labelNames: ['pattern', 'outcome'] as const,
});

export const rpcMessageSeconds = new Histogram({
  name: 'rpc_message_duration_seconds',
  help: 'Time from taking a message to its reply, by pattern',
  labelNames: ['pattern'] as const,
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
});
