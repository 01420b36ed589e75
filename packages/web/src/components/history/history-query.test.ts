import { describe, expect, it } from 'vitest';
import { EnclaveError } from '@enclave/protocol';
import { historyQuery, isGone, startOfLocalDay } from './history-query.ts';

describe('history manager queries', () => {
  it('adds the tab filter to the typed words', () => {
    expect(historyQuery('all', '  ')).toBe('');
    expect(historyQuery('all', ' 会议 ')).toBe('会议');
    expect(historyQuery('files', '')).toBe('has:file');
    expect(historyQuery('images', '截图')).toBe('has:image 截图');
    expect(historyQuery('links', '"设计 文档"')).toBe('has:link "设计 文档"');
  });

  it('reads a date input as the start of that local day', () => {
    expect(startOfLocalDay('2025-03-03')).toBe(new Date(2025, 2, 3).getTime());
    expect(startOfLocalDay('')).toBeNull();
    expect(startOfLocalDay('2025-3-3')).toBeNull();
  });

  it('tells a message that is gone from other failures', () => {
    expect(isGone(new EnclaveError('message_not_found'))).toBe(true);
    expect(isGone(new EnclaveError('server_busy'))).toBe(false);
    expect(isGone(new Error('x'))).toBe(false);
  });
});
