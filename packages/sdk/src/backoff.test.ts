import { describe, expect, it } from 'vitest';
import { Backoff, fullJitterDelay } from './backoff.ts';
import { newClientId } from './ids.ts';

describe('fullJitterDelay', () => {
  it('stays within [0, min(cap, base·2^n)) for every attempt', () => {
    for (let attempt = 0; attempt < 60; attempt++) {
      const ceiling = Math.min(30_000, 500 * 2 ** attempt);
      expect(fullJitterDelay(attempt, { random: () => 0 })).toBe(0);
      expect(fullJitterDelay(attempt, { random: () => 0.999999 })).toBeLessThan(ceiling);
      expect(fullJitterDelay(attempt, { random: () => 0.999999 })).toBeGreaterThanOrEqual(ceiling - 1);
      for (let i = 0; i < 50; i++) {
        const d = fullJitterDelay(attempt);
        expect(d).toBeGreaterThanOrEqual(0);
        expect(d).toBeLessThan(ceiling);
      }
    }
  });

  it('spreads delays over the whole window (full jitter, not equal jitter)', () => {
    const delays = Array.from({ length: 2000 }, () => fullJitterDelay(10));
    expect(Math.min(...delays)).toBeLessThan(3_000);
    expect(Math.max(...delays)).toBeGreaterThan(27_000);
  });

  it('honours a custom base and cap', () => {
    expect(fullJitterDelay(3, { baseMs: 100, capMs: 1000, random: () => 0.5 })).toBe(400);
    expect(fullJitterDelay(8, { baseMs: 100, capMs: 1000, random: () => 0.5 })).toBe(500);
  });
});

describe('Backoff', () => {
  it('grows per attempt and starts over after reset', () => {
    const b = new Backoff({ random: () => 0.5 });
    expect([b.next(), b.next(), b.next()]).toEqual([250, 500, 1000]);
    b.reset();
    expect(b.attempts).toBe(0);
    expect(b.next()).toBe(250);
  });
});

describe('newClientId', () => {
  it('makes compact ids the protocol accepts, without collisions', () => {
    const ids = new Set(Array.from({ length: 1000 }, newClientId));
    expect(ids.size).toBe(1000);
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });
});
