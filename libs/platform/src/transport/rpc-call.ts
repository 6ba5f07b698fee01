import { ClientProxy, RmqRecordBuilder } from '@nestjs/microservices';
import { TimeoutError, firstValueFrom, lastValueFrom, mergeMap, takeUntil, tap, throwError, timeout, timer } from 'rxjs';
import { ContractError, ErrorCode, isContractError, Shortage } from '@app/contracts';
import { correlationHeaders } from '../observability/correlation';

/** A failed call, as the caller sees it: the participant's contract error, or SERVICE_UNAVAILABLE. */
export class RpcCallError extends Error implements ContractError {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: string[] | Shortage[],
    /** False when the request never left this process (no broker connection): it certainly did not happen. */
    readonly sent = true,
  ) {
    super(message);
    this.name = 'RpcCallError';
  }

  /** Worth another try: the service could not be reached, or failed and rolled back. */
  get transient(): boolean {
    return this.code === ErrorCode.SERVICE_UNAVAILABLE || this.code === ErrorCode.INTERNAL;
  }

  toJSON(): ContractError {
    return this.details ? { code: this.code, message: this.message, details: this.details } : { code: this.code, message: this.message };
  }
}

/**
 * Message header of a request sent with `expire`: the epoch ms after which its caller no longer
 * waits. The broker drops the request while it is queued (its per-message TTL); this header lets
 * the service drop one the broker already handed over, e.g. to a consumer that was paused.
 */
export const EXPIRES_AT_HEADER = 'x-expires-at';

/**
 * Sends one request and waits at most `timeoutMs` for its reply; a timeout never means success.
 * The current correlation travels in the message headers, so the receiver logs under it too.
 * `expire`: a request its caller has given up on is never run: the broker drops it once the caller
 * stopped waiting, and the service drops one that reaches it later (for reads and probes only: a
 * command must stay queued, its effect is learnt by retry or recovery). Like the order's deadline,
 * this assumes the hosts' clocks agree to well within `timeoutMs`.
 */
export async function call<T>(client: ClientProxy, pattern: string, data: unknown, timeoutMs: number, { expire = false } = {}): Promise<T> {
  await connected(client, pattern, timeoutMs);
  try {
    // A read nobody waits for any more is dropped instead of queueing up while the service is down
    // or busy (and arriving in a burst when it comes back).
    const expiration = expire ? String(timeoutMs) : undefined;
    const headers = expire ? { ...correlationHeaders(), [EXPIRES_AT_HEADER]: String(Date.now() + timeoutMs) } : correlationHeaders();
    const message = headers || expiration ? new RmqRecordBuilder(data).setOptions({ headers, expiration }).build() : data;
    return await firstValueFrom(client.send<T>(pattern, message).pipe(timeout(timeoutMs)));
  } catch (err) {
    throw callError(err, pattern, timeoutMs);
  }
}

/**
 * Sends one request whose service answers in several replies (a stream: BatchProgress), handing
 * each to `onReply` as it arrives; resolves once the last has come, and fails like `call` if the
 * replies have not all come within `timeoutMs`. A command: never expired.
 */
export async function stream<T>(
  client: ClientProxy,
  pattern: string,
  data: unknown,
  timeoutMs: number,
  onReply: (reply: T) => void,
): Promise<void> {
  await connected(client, pattern, timeoutMs);
  const headers = correlationHeaders();
  const message = headers ? new RmqRecordBuilder(data).setOptions({ headers }).build() : data;
  try {
    await lastValueFrom(
      client.send<T>(pattern, message).pipe(
        tap(onReply),
        // The whole stream within timeoutMs, as one reply would be.
        takeUntil(timer(timeoutMs).pipe(mergeMap(() => throwError(() => new TimeoutError())))),
      ),
      { defaultValue: undefined },
    );
  } catch (err) {
    throw callError(err, pattern, timeoutMs);
  }
}

/**
 * How long a client's connection may stay pending, neither come nor failed, before the client is
 * closed to connect afresh: long past any call's timeout, so a first connection that is slow but
 * progressing (a broker accepting slowly) is waited for, not closed and restarted by every call.
 */
export const STUCK_CONNECTION_MS = 10_000;

/** When each connection promise was first awaited, or `settled` once it came or failed. */
const connectionsSeen = new WeakMap<Promise<unknown>, number | 'settled'>();

/**
 * Waits for the client's connection, at most `timeoutMs`; a call that cannot have it in time is
 * refused unsent. While the broker connection is down the client refuses at once, before
 * publishing anything. A connection pending for STUCK_CONNECTION_MS is stuck: Nest's client can be
 * left waiting forever for a channel that a broker restart cut off during its very first setup, and
 * every call on it then hung with no deadline (a chaos run's gateway, started as the broker
 * restarted, answered no order again). Such a client is closed, so the next call connects afresh.
 */
async function connected(client: ClientProxy, pattern: string, timeoutMs: number): Promise<void> {
  const notSent = (why: string) => new RpcCallError(ErrorCode.SERVICE_UNAVAILABLE, `${pattern}: ${why}; not sent`, undefined, false);
  let deadline: NodeJS.Timeout | undefined;
  try {
    const connecting = client.connect() as Promise<unknown>;
    let seen = connectionsSeen.get(connecting);
    // The usual case, a connection long made: awaited with no timer.
    if (seen === 'settled') return void (await connecting);
    if (seen === undefined) {
      seen = Date.now();
      connectionsSeen.set(connecting, seen);
      const settled = () => void connectionsSeen.set(connecting, 'settled');
      connecting.then(settled, settled);
    }
    const late = new Promise<'late'>((resolve) => (deadline = setTimeout(() => resolve('late'), timeoutMs)));
    if ((await Promise.race([connecting, late])) !== 'late') return;
    const pendingMs = Date.now() - seen;
    if (pendingMs < STUCK_CONNECTION_MS) throw notSent(`no RabbitMQ connection within ${timeoutMs} ms (still connecting)`);
    void client.close().catch(() => undefined);
    throw notSent(`no RabbitMQ connection for ${pendingMs} ms (the client is reconnecting)`);
  } catch (err) {
    throw err instanceof RpcCallError ? err : notSent('not connected to RabbitMQ');
  } finally {
    clearTimeout(deadline);
  }
}

function callError(err: unknown, pattern: string, timeoutMs: number): RpcCallError {
  if (isContractError(err)) return new RpcCallError(err.code, err.message, err.details);
  const why = err instanceof TimeoutError ? `no reply within ${timeoutMs} ms` : String((err as Error)?.message ?? err);
  return new RpcCallError(ErrorCode.SERVICE_UNAVAILABLE, `${pattern}: ${why}; outcome unknown`);
}
