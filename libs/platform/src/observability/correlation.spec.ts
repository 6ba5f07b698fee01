import {
  CORRELATION_HEADER,
  ORDER_HEADER,
  correlationHeaders,
  correlationIdFrom,
  setCorrelatedOrder,
  withCorrelation,
} from './correlation';

describe('correlation', () => {
  it('carries the correlation, and the order once named, into outgoing headers across awaits', async () => {
    expect(correlationHeaders()).toBeUndefined();
    const headers = await withCorrelation({ correlationId: 'c-1' }, async () => {
      expect(correlationHeaders()).toEqual({ [CORRELATION_HEADER]: 'c-1' });
      setCorrelatedOrder('o-1');
      await new Promise((resolve) => setTimeout(resolve, 1));
      return correlationHeaders();
    });
    expect(headers).toEqual({ [CORRELATION_HEADER]: 'c-1', [ORDER_HEADER]: 'o-1' });
    expect(correlationHeaders()).toBeUndefined();
  });

  it('keeps a sane client id and replaces anything else', () => {
    expect(correlationIdFrom('trace-42:a.b')).toBe('trace-42:a.b');
    for (const bad of [undefined, '', 'x'.repeat(101), 'a b', 'a\nb', ['a']]) {
      expect(correlationIdFrom(bad)).toMatch(/^[0-9a-f-]{36}$/);
    }
  });
});
