import { createHash } from 'node:crypto';

/**
 * A seeded stream of random numbers. The n-th draw of stream `name` under `seed` is a hash of the
 * three, so one seed fixes every draw, and streams drawn at different paces (each client, each lane
 * of the fault schedule) never shift one another.
 */
export class Dice {
  private drawn = 0;

  constructor(
    private readonly seed: number,
    private readonly name: string,
  ) {}

  /** A number in [0, 1). */
  next(): number {
    const digest = createHash('sha256').update(`${this.seed}/${this.name}/${this.drawn++}`).digest();
    return digest.readUIntBE(0, 6) / 2 ** 48;
  }

  /** A whole number from `min` to `max`, both included. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }
}
