import { ErrorCode, Outcome } from '@app/contracts';
import { ContractException } from '../transport/contract.exception';
import { RpcCallError } from '../transport/rpc-call';
import { Batcher, outcomeOf } from './batcher';

/** A send whose batches the test answers one by one. */
function controlledSend() {
  const sent: { items: number[]; answer: (outcomes: Outcome<string>[]) => void; fail: (err: unknown) => void }[] = [];
  const send = (items: number[], _correlationIds: string[]) =>
    new Promise<Outcome<string>[]>((answer, fail) => {
      sent.push({ items, answer, fail });
    });
  return { sent, send };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('Batcher', () => {
  it('sends a call at once when nothing is in flight, and what arrives meanwhile as the next batch', async () => {
    const { sent, send } = controlledSend();
    const batcher = new Batcher('test', send, { max: 64, inFlight: 1 });
    const first = batcher.call(1);
    expect(sent.map((s) => s.items)).toEqual([[1]]);
    const later = [2, 3, 4].map((n) => batcher.call(n));
    expect(sent).toHaveLength(1);
    sent[0].answer([{ ok: 'one' }]);
    await expect(first).resolves.toBe('one');
    expect(sent.map((s) => s.items)).toEqual([[1], [2, 3, 4]]);
    sent[1].answer([{ ok: 'two' }, { error: { code: ErrorCode.OUT_OF_STOCK, message: 'none' } }, { ok: 'four' }]);
    const settled = await Promise.allSettled(later);
    expect(settled.map((s) => (s.status === 'fulfilled' ? s.value : (s.reason as RpcCallError).code))).toEqual([
      'two',
      ErrorCode.OUT_OF_STOCK,
      'four',
    ]);
  });

  it('caps a batch at max and keeps at most inFlight batches out', async () => {
    const { sent, send } = controlledSend();
    const batcher = new Batcher('test', send, { max: 2, inFlight: 2 });
    const calls = [1, 2, 3, 4, 5, 6].map((n) => batcher.call(n));
    expect(sent.map((s) => s.items)).toEqual([[1], [2]]);
    sent[0].answer([{ ok: 'a' }]);
    await tick();
    expect(sent.map((s) => s.items)).toEqual([[1], [2], [3, 4]]);
    sent[1].answer([{ ok: 'b' }]);
    sent[2].answer([{ ok: 'c' }, { ok: 'd' }]);
    await tick();
    expect(sent.map((s) => s.items).slice(3)).toEqual([[5, 6]]);
    sent[3].answer([{ ok: 'e' }, { ok: 'f' }]);
    await expect(Promise.all(calls)).resolves.toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
  });

  it('fails every call of a batch that fails whole, and one with no outcome, and goes on with the next', async () => {
    const { sent, send } = controlledSend();
    const batcher = new Batcher('test', send, { max: 64, inFlight: 1 });
    const first = batcher.call(1);
    const [second, third] = [2, 3].map((n) => batcher.call(n));
    const down = new RpcCallError(ErrorCode.SERVICE_UNAVAILABLE, 'no reply');
    sent[0].fail(down);
    await expect(first).rejects.toBe(down);
    sent[1].answer([{ ok: 'two' }]);
    await expect(second).resolves.toBe('two');
    await expect(third).rejects.toMatchObject({ code: ErrorCode.INTERNAL, transient: true });
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
