import { ClientProxy, RmqRecordBuilder } from '@nestjs/microservices';
import { TimeoutError, firstValueFrom, timeout } from 'rxjs';
import { ContractError, ErrorCode, isContractError } from '@app/contracts';
import { correlationHeaders } from '../observability/correlation';

/** A failed call, as the caller sees it: the participant's contract error, or SERVICE_UNAVAILABLE. */
export class RpcCallError extends Error implements ContractError {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: string[],
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
 * Sends one request and waits at most `timeoutMs` for its reply; a timeout never means success.
 * The current correlation travels in the message headers, so the receiver logs under it too.
 * `expire`: the broker drops the request once the caller has stopped waiting (for probes only: a
 * command must stay queued, its effect is learnt by retry or recovery).
 */
export async function call<T>(client: ClientProxy, pattern: string, data: unknown, timeoutMs: number, { expire = false } = {}): Promise<T> {
  try {
    // While the broker connection is down the client refuses at once, before publishing anything.
    await client.connect();
  } catch {
    throw new RpcCallError(ErrorCode.SERVICE_UNAVAILABLE, `${pattern}: not connected to RabbitMQ; not sent`, undefined, false);
  }
  try {
    const headers = correlationHeaders();
    // A probe nobody waits for any more is dropped by the broker instead of queueing up while the
    // service is down (and arriving in a burst when it comes back).
    const expiration = expire ? String(timeoutMs) : undefined;
    const message = headers || expiration ? new RmqRecordBuilder(data).setOptions({ headers, expiration }).build() : data;
    return await firstValueFrom(client.send<T>(pattern, message).pipe(timeout(timeoutMs)));
  } catch (err) {
    if (isContractError(err)) throw new RpcCallError(err.code, err.message, err.details);
    const why = err instanceof TimeoutError ? `no reply within ${timeoutMs} ms` : String((err as Error)?.message ?? err);
    throw new RpcCallError(ErrorCode.SERVICE_UNAVAILABLE, `${pattern}: ${why}; outcome unknown`);
  }
}
