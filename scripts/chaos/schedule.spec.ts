import { SERVICES } from '../system';
import { BOOT_ALLOWANCE_MS, Fault, faultSchedule, laneOf, QUIET_MS } from './schedule';

const LEASE_MS = 7000;
const schedule = (seed: number, durationMs = 150_000, brokerRestarts = 2) =>
  faultSchedule(seed, { durationMs, leaseMs: LEASE_MS, brokerRestarts });

describe('faultSchedule', () => {
  it('gives the same faults at the same times for one seed, and others for another', () => {
    expect(schedule(42)).toEqual(schedule(42));
    expect(schedule(43)).not.toEqual(schedule(42));
  });

  it.each([1, 2, 3, 7, 1234])(
    'seed %i: every app is killed, an order instance paused past its lease, the database and the broker hit',
    (seed) => {
      const faults = schedule(seed);
      for (const service of SERVICES) expect(faults).toContainEqual(expect.objectContaining({ kind: 'kill', service }));
      const pauses = faults.filter((f) => f.kind === 'pause');
      expect(pauses.length).toBeGreaterThan(0);
      for (const pause of pauses) expect(pause).toMatchObject({ service: 'order', pauseMs: expect.any(Number) });
      expect(Math.min(...pauses.map((p) => (p.kind === 'pause' ? p.pauseMs : 0)))).toBeGreaterThan(LEASE_MS);
      expect(faults.filter((f) => f.kind === 'db-burst').length).toBeGreaterThan(2);
      expect(faults.filter((f) => f.kind === 'broker-restart')).toHaveLength(2);
    },
  );

  it('has a short run pause and kill the order service too, the pause first', () => {
    for (let seed = 0; seed < 200; seed++) {
      const kinds = schedule(seed, 30_000, 1)
        .filter((f) => laneOf(f) === 'order')
        .map((f) => f.kind);
      expect(kinds.slice(0, 2)).toEqual(['pause', 'kill']);
    }
  });

  it('starts a fault of an app only once the previous one has ended and the instance had time to boot', () => {
    for (let seed = 0; seed < 50; seed++) {
      const faults = schedule(seed);
      for (const service of SERVICES) {
        const lane = faults.filter((f) => laneOf(f) === service);
        for (let i = 1; i < lane.length; i++)
          expect(lane[i].at).toBeGreaterThanOrEqual(lane[i - 1].at + lasts(lane[i - 1]) + BOOT_ALLOWANCE_MS);
      }
    }
  });

  it('keeps the first and last seconds quiet, and has no broker restart when told so', () => {
    const faults = schedule(5, 60_000, 0);
    expect(faults.filter((f) => f.kind === 'broker-restart')).toEqual([]);
    for (const fault of faults) {
      expect(fault.at).toBeGreaterThanOrEqual(QUIET_MS);
      expect(fault.at).toBeLessThan(60_000 - QUIET_MS);
    }
  });
});

function lasts(fault: Fault): number {
  return fault.kind === 'kill' ? fault.downMs : fault.kind === 'pause' ? fault.pauseMs : 0;
}
