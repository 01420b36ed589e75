import { describe, expect, it } from 'vitest';
import { dayLabel, listTime } from './format-time.ts';

const words = { today: '今天', yesterday: '昨天', weekdays: ['周日', '周一', '周二', '周三', '周四', '周五', '周六'] };
const now = new Date(2026, 11, 2, 15, 30).getTime(); // Wednesday

describe('times in the list and the chat', () => {
  it.each([
    [new Date(2026, 11, 2, 14, 5).getTime(), '14:05'],
    [new Date(2026, 11, 1, 23, 59).getTime(), '昨天'],
    [new Date(2026, 10, 29, 8, 0).getTime(), '周日'],
    [new Date(2026, 10, 2, 8, 0).getTime(), '2026-11-02'],
  ])('listTime(%d) = %s', (ts, expected) => {
    expect(listTime(ts, now, words)).toBe(expected);
  });

  it('labels day separators', () => {
    expect(dayLabel(now - 60_000, now, words)).toBe('今天');
    expect(dayLabel(new Date(2026, 11, 1, 9).getTime(), now, words)).toBe('昨天');
  });
});
