import { ErrorCode } from '@app/contracts';
import { ClientProxy } from '@nestjs/microservices';
import { NEVER, Observable, concat, of, throwError } from 'rxjs';
import { call, RpcCallError, stream, STUCK_CONNECTION_MS } from './rpc-call';

/** A client whose every request is answered by `replies`, as Nest's ClientProxy hands replies on. */
const clientAnswering = (replies: Observable<unknown>) =>
  ({ connect: async () => undefined, send: () => replies }) as unknown as ClientProxy;

describe('stream', () => {
  it('hands on every reply of the stream as it comes, and resolves once the last has come', async () => {
    const seen: unknown[] = [];
    await stream(clientAnswering(of({ part: 1 }, { part: 2 })), 'test.batch', {}, 1000, (reply) => seen.push(reply));
    expect(seen).toEqual([{ part: 1 }, { part: 2 }]);
  });

  it('fails as outcome unknown when the stream has not ended within the time, after handing on what came', async () => {
    const seen: unknown[] = [];
    const unfinished = stream(clientAnswering(concat(of({ part: 1 }), NEVER)), 'test.batch', {}, 50, (reply) => seen.push(reply));
    await expect(unfinished).rejects.toMatchObject({
      code: ErrorCode.SERVICE_UNAVAILABLE,
      message: expect.stringMatching(/no reply within 50 ms/),
    });
    expect(seen).toEqual([{ part: 1 }]);
  });

  it("fails with the service's contract error", async () => {
    const refused = stream(
      clientAnswering(throwError(() => ({ code: ErrorCode.INTERNAL, message: 'rolled back' }))),
      'test.batch',
      {},
      1000,
      () => {},
    );
    await expect(refused).rejects.toEqual(new RpcCallError(ErrorCode.INTERNAL, 'rolled back'));
  });
});

describe('call', () => {
  afterEach(() => jest.useRealTimers());

  /** A client whose connect() answers the same pending connection until `comesAfterMs` (never, by default). */
  const clientConnecting = (comesAfterMs?: number) => {
    const connection = new Promise((resolve) => comesAfterMs !== undefined && setTimeout(resolve, comesAfterMs));
    return { connect: () => connection, close: jest.fn(() => Promise.resolve()), send: jest.fn(() => of('answer')) };
  };

  it('refuses a call unsent when the connection has not come in time, and leaves a young connection to come', async () => {
    const client = clientConnecting();
    await expect(call(client as unknown as ClientProxy, 'test.get', {}, 50)).rejects.toMatchObject({
      code: ErrorCode.SERVICE_UNAVAILABLE,
      sent: false,
      message: expect.stringMatching(/no RabbitMQ connection within 50 ms \(still connecting\)/),
    });
    expect(client.close).not.toHaveBeenCalled();
    expect(client.send).not.toHaveBeenCalled();
  });

  it('waits for a slow first connection through calls refused meanwhile, without closing it', async () => {
    jest.useFakeTimers();
    const client = clientConnecting(3000);
    const first = expect(call(client as unknown as ClientProxy, 'test.get', {}, 2000)).rejects.toMatchObject({ sent: false });
    await jest.advanceTimersByTimeAsync(2000);
    await first;
    const second = call(client as unknown as ClientProxy, 'test.get', {}, 2000);
    await jest.advanceTimersByTimeAsync(1000);
    await expect(second).resolves.toBe('answer');
    expect(client.close).not.toHaveBeenCalled();
  });

  it('closes a client whose connection has been pending for STUCK_CONNECTION_MS, so the next call connects afresh', async () => {
    jest.useFakeTimers();
    const client = clientConnecting();
    const refusals: Promise<unknown>[] = [];
    for (let at = 0; at < STUCK_CONNECTION_MS; at += 2000) {
      refusals.push(expect(call(client as unknown as ClientProxy, 'test.get', {}, 2000)).rejects.toMatchObject({ sent: false }));
      await jest.advanceTimersByTimeAsync(2000);
    }
    await Promise.all(refusals);
    // The calls ending at 2 to 8 s left the connection alone; the one ending at 10 s, as long after the first began, closed it.
    expect(client.close).toHaveBeenCalledTimes(1);
    const last = call(client as unknown as ClientProxy, 'test.get', {}, 2000);
    const refused = expect(last).rejects.toMatchObject({ message: expect.stringMatching(/no RabbitMQ connection for 12000 ms/) });
    await jest.advanceTimersByTimeAsync(2000);
    await refused;
    expect(client.send).not.toHaveBeenCalled();
  });

  it('waits for a connection that comes in time, and refuses unsent one that fails', async () => {
    const slow = {
      connect: () => new Promise((resolve) => setTimeout(resolve, 20)),
      send: () => of('answer'),
    } as unknown as ClientProxy;
    await expect(call(slow, 'test.get', {}, 1000)).resolves.toBe('answer');
    const down = { connect: () => Promise.reject(new Error('Connection lost')), send: () => of('answer') } as unknown as ClientProxy;
    await expect(call(down, 'test.get', {}, 1000)).rejects.toMatchObject({ code: ErrorCode.SERVICE_UNAVAILABLE, sent: false });
  });
});
