import { ErrorCode, Outcome } from '@app/contracts';
import { ContractException } from '../transport/contract.exception';
import { RpcCallError } from '../transport/rpc-call';
import { Batcher, EarlyReplies, outcomeOf } from './batcher';

/** A send whose batches the test answers one by one. */
function controlledSend() {
  const sent: {
    items: number[];
    answer: (outcomes: Outcome<string>[]) => void;
    fail: (err: unknown) => void;
    early: EarlyReplies<string>;
  }[] = [];
  const send = (items: number[], _correlationIds: string[], early: EarlyReplies<string>) =>
    new Promise<Outcome<string>[]>((answer, fail) => {
      sent.push({ items, answer, fail, early });
    });
  return { sent, send };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

/** A batcher with one batch in flight, [2, 3], sent once the batch [1] before it was answered. */
async function secondBatchOut() {
  const { sent, send } = controlledSend();
  const batcher = new Batcher('test', send, { max: 64, inFlight: 1 });
  const first = batcher.call(1);
  await tick();
  const calls = [batcher.call(2), batcher.call(3)];
  sent[0].answer([{ ok: 'one' }]);
  await first;
  await tick();
  return { sent, batcher, calls };
}

describe('Batcher', () => {
  it('sends a lone call as soon as the running code is done, and what arrives meanwhile as the next batch', async () => {
    const { sent, send } = controlledSend();
    const batcher = new Batcher('test', send, { max: 64, inFlight: 1 });
    const first = batcher.call(1);
    await Promise.resolve();
    expect(sent.map((s) => s.items)).toEqual([[1]]);
    const later = [2, 3, 4].map((n) => batcher.call(n));
    await tick();
    expect(sent).toHaveLength(1);
    sent[0].answer([{ ok: 'one' }]);
    await expect(first).resolves.toBe('one');
    await tick();
    expect(sent.map((s) => s.items)).toEqual([[1], [2, 3, 4]]);
    sent[1].answer([{ ok: 'two' }, { error: { code: ErrorCode.OUT_OF_STOCK, message: 'none' } }, { ok: 'four' }]);
    const settled = await Promise.allSettled(later);
    expect(settled.map((s) => (s.status === 'fulfilled' ? s.value : (s.reason as RpcCallError).code))).toEqual([
      'two',
      ErrorCode.OUT_OF_STOCK,
      'four',
    ]);
  });

  it('sends the calls that side-by-side work makes in one go as one batch, even with nothing in flight', async () => {
    const { sent, send } = controlledSend();
    const batcher = new Batcher('test', send, { max: 64, inFlight: 1 });
    // The orders of one message: each goes on by itself and reaches its call a few continuations in.
    const orders = [1, 2, 3].map(async (n) => {
      await Promise.resolve();
      await Promise.resolve();
      return batcher.call(n);
    });
    await tick();
    expect(sent.map((s) => s.items)).toEqual([[1, 2, 3]]);
    sent[0].answer([{ ok: 'a' }, { ok: 'b' }, { ok: 'c' }]);
    await expect(Promise.all(orders)).resolves.toEqual(['a', 'b', 'c']);
  });

  it('sends the calls made in the turn a batch frees its place with the ones waiting, as one batch', async () => {
    const { sent, batcher, calls } = await secondBatchOut();
    const fourth = batcher.call(4);
    sent[1].early.release();
    const fifth = batcher.call(5);
    await tick();
    expect(sent.map((s) => s.items)).toEqual([[1], [2, 3], [4, 5]]);
    sent[1].answer([{ ok: 'two' }, { ok: 'three' }]);
    sent[2].answer([{ ok: 'four' }, { ok: 'five' }]);
    await expect(Promise.all([...calls, fourth, fifth])).resolves.toEqual(['two', 'three', 'four', 'five']);
  });

  it('fails the batch of a send that throws instead of rejecting, and goes on with the next', async () => {
    const sent: number[][] = [];
    const batcher = new Batcher<number, string>(
      'test',
      (items) => {
        sent.push(items);
        if (sent.length === 1) throw new Error('cannot send');
        return Promise.resolve(items.map((n) => ({ ok: `sent ${n}` })));
      },
      { max: 64, inFlight: 1 },
    );
    await expect(batcher.call(1)).rejects.toThrow('cannot send');
    await expect(batcher.call(2)).resolves.toBe('sent 2');
    expect(sent).toEqual([[1], [2]]);
  });

  it('caps a batch at max and keeps at most inFlight batches out', async () => {
    const { sent, send } = controlledSend();
    const batcher = new Batcher('test', send, { max: 2, inFlight: 2 });
    const calls = [1, 2, 3, 4, 5, 6, 7].map((n) => batcher.call(n));
    await tick();
    expect(sent.map((s) => s.items)).toEqual([
      [1, 2],
      [3, 4],
    ]);
    sent[0].answer([{ ok: 'a' }, { ok: 'b' }]);
    await tick();
    expect(sent.map((s) => s.items).slice(2)).toEqual([[5, 6]]);
    sent[1].answer([{ ok: 'c' }, { ok: 'd' }]);
    sent[2].answer([{ ok: 'e' }, { ok: 'f' }]);
    await tick();
    expect(sent.map((s) => s.items).slice(3)).toEqual([[7]]);
    sent[3].answer([{ ok: 'g' }]);
    await expect(Promise.all(calls)).resolves.toEqual(['a', 'b', 'c', 'd', 'e', 'f', 'g']);
  });

  it('fails every call of a batch that fails whole, and one with no outcome, and goes on with the next', async () => {
    const { sent, send } = controlledSend();
    const batcher = new Batcher('test', send, { max: 64, inFlight: 1 });
    const first = batcher.call(1);
    await tick();
    const [second, third] = [2, 3].map((n) => batcher.call(n));
    const down = new RpcCallError(ErrorCode.SERVICE_UNAVAILABLE, 'no reply');
    sent[0].fail(down);
    await expect(first).rejects.toBe(down);
    await tick();
    sent[1].answer([{ ok: 'two' }]);
    await expect(second).resolves.toBe('two');
    await expect(third).rejects.toMatchObject({ code: ErrorCode.INTERNAL, transient: true });
  });

  it('settles a call as soon as its outcome is in, and lets the next batch leave once released, before its batch is done', async () => {
    const {
      sent,
      batcher,
      calls: [quick, slow],
    } = await secondBatchOut();
    const later = batcher.call(4);
    await tick();
    expect(sent.map((s) => s.items)).toEqual([[1], [2, 3]]);
    // The batch [2, 3]: 2 is answered early; 3 goes on (waiting for stock), and the batch is released.
    sent[1].early.settle(0, { ok: 'two' });
    await expect(quick).resolves.toBe('two');
    expect(sent).toHaveLength(2);
    sent[1].early.release();
    await Promise.resolve();
    expect(sent.map((s) => s.items)).toEqual([[1], [2, 3], [4]]);
    sent[2].answer([{ ok: 'four' }]);
    await expect(later).resolves.toBe('four');
    // Its end settles 3, never 2 twice, and frees no second place.
    sent[1].answer([{ ok: 'not two' }, { ok: 'three' }]);
    await expect(slow).resolves.toBe('three');
    await tick();
    const fifth = batcher.call(5);
    await tick();
    const sixth = batcher.call(6);
    expect(sent.map((s) => s.items)).toEqual([[1], [2, 3], [4], [5]]);
    sent[3].answer([{ ok: 'five' }]);
    await expect(fifth).resolves.toBe('five');
    await tick();
    expect(sent.map((s) => s.items)).toEqual([[1], [2, 3], [4], [5], [6]]);
    sent[4].answer([{ ok: 'six' }]);
    await expect(sixth).resolves.toBe('six');
  });

  it('fails only the calls a failing batch had not settled early', async () => {
    const {
      sent,
      calls: [a, b],
    } = await secondBatchOut();
    sent[1].early.settle(1, { ok: 'three' });
    sent[1].fail(new RpcCallError(ErrorCode.SERVICE_UNAVAILABLE, 'no reply'));
    const settled = await Promise.allSettled([a, b]);
    expect(settled.map((s) => (s.status === 'fulfilled' ? s.value : (s.reason as RpcCallError).code))).toEqual([
      ErrorCode.SERVICE_UNAVAILABLE,
      'three',
    ]);
  });
});

describe('outcomeOf', () => {
  it('answers a contract refusal as the outcome, and lets any other error fail the batch', async () => {
    await expect(outcomeOf(async () => 1)).resolves.toEqual({ ok: 1 });
    await expect(outcomeOf(() => Promise.reject(new ContractException(ErrorCode.NO_AGENT, 'none free')))).resolves.toEqual({
      error: { code: ErrorCode.NO_AGENT, message: 'none free' },
    });
    await expect(outcomeOf(() => Promise.reject(new Error('deadlock')))).rejects.toThrow('deadlock');
  });
});
