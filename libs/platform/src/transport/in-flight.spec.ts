import { InFlightMessages } from './in-flight';

describe('InFlightMessages', () => {
  it('resolves drained once the last message in flight finishes', async () => {
    const inFlight = new InFlightMessages();
    inFlight.started();
    inFlight.started();
    const drained = inFlight.drained(5000);
    inFlight.finished();
    expect(inFlight.size).toBe(1);
    inFlight.finished();
    await expect(drained).resolves.toBe(true);
  });

  it('gives up after the timeout while a message is still running', async () => {
    const inFlight = new InFlightMessages();
    inFlight.started();
    await expect(inFlight.drained(10)).resolves.toBe(false);
    await expect(new InFlightMessages().drained(10)).resolves.toBe(true);
  });
});
