import { ErrorCode } from '@app/contracts';
import { ClientProxy } from '@nestjs/microservices';
import { NEVER, Observable, concat, of, throwError } from 'rxjs';
import { call, RpcCallError, stream } from './rpc-call';

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
  it('refuses a call unsent when the connection neither comes nor fails in time, and closes the client to connect afresh', async () => {
    const close = jest.fn(() => Promise.resolve());
    const send = jest.fn(() => of('sent'));
    const stuck = { connect: () => new Promise(() => {}), close, send } as unknown as ClientProxy;
    await expect(call(stuck, 'test.get', {}, 50)).rejects.toMatchObject({
      code: ErrorCode.SERVICE_UNAVAILABLE,
      sent: false,
      message: expect.stringMatching(/no RabbitMQ connection within 50 ms/),
    });
    expect(close).toHaveBeenCalledTimes(1);
    expect(send).not.toHaveBeenCalled();
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
