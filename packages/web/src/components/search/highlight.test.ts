import { describe, expect, it } from 'vitest';
import { segments } from './highlight.ts';

describe('snippet highlights', () => {
  it('splits text at the matches', () => {
    expect(segments('明天开会讨论会议纪要', [[2, 4]])).toEqual([
      { text: '明天', match: false },
      { text: '开会', match: true },
      { text: '讨论会议纪要', match: false },
    ]);
    expect(
      segments('Deploy and deploy', [
        [0, 6],
        [11, 17],
      ]).map((s) => s.match),
    ).toEqual([true, false, true]);
  });

  it('merges overlaps, clamps out-of-range ranges and always joins back to the text', () => {
    const text = '<b>会议</b> at 10';
    for (const ranges of [
      [],
      [
        [3, 5],
        [4, 6],
      ],
      [[-4, 2]],
      [[10, 99]],
      [[5, 3]],
      [
        [0, 2],
        [2, 4],
      ],
    ] as [number, number][][]) {
      const parts = segments(text, ranges);
      expect(parts.map((p) => p.text).join('')).toBe(text);
      for (let i = 1; i < parts.length; i++) expect(parts[i]!.match && parts[i - 1]!.match).toBe(false);
    }
    expect(
      segments(text, [
        [3, 5],
        [4, 6],
      ]).filter((p) => p.match),
    ).toEqual([{ text: '会议<', match: true }]);
  });
});
