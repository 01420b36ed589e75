import { describe, expect, it } from 'vitest';
import { insertMention, mentionQuery, mentionsInText, rankMentions } from './mentions.ts';

const people = [
  { userId: 'u1', displayName: '张三', username: 'zhangsan' },
  { userId: 'u2', displayName: 'Zara Li', username: 'zara' },
  { userId: 'u3', displayName: '李四', username: 'lisi' },
  { userId: 'me', displayName: 'Me', username: 'me' },
];

describe('mention autocomplete', () => {
  it.each([
    ['@', 1, { start: 0, query: '' }],
    ['hi @zh', 6, { start: 3, query: 'zh' }],
    ['hi @张', 5, { start: 3, query: '张' }],
    ['mail a@b', 8, null],
    ['@zh and more', 12, null],
    ['@zh x', 3, { start: 0, query: 'zh' }],
  ])('mentionQuery(%j, %d)', (text, caret, expected) => {
    expect(mentionQuery(text, caret)).toEqual(expected);
  });

  it('ranks prefix matches before substring matches and leaves me out', () => {
    expect(rankMentions(people, 'z', 'me').map((p) => p.userId)).toEqual(['u2', 'u1']);
    expect(rankMentions(people, 'san', 'me').map((p) => p.userId)).toEqual(['u1']);
    expect(rankMentions(people, '', 'me')).toHaveLength(3);
    expect(rankMentions(people, '', 'me', 2)).toHaveLength(2);
  });

  it('inserts the picked name and puts the caret after it', () => {
    expect(insertMention('hi @zh there', 3, 6, '张三')).toEqual({ text: 'hi @张三  there', caret: 7 });
  });

  it('sends only mentions still present in the text, and @all in either language', () => {
    const picked = new Map([
      ['u1', '张三'],
      ['u3', '李四'],
    ]);
    expect(mentionsInText('@张三 请看一下', picked, ['all', '所有人'])).toEqual({
      mentions: ['u1'],
      mentionAll: false,
    });
    expect(mentionsInText('通知 @所有人 开会', picked, ['all', '所有人']).mentionAll).toBe(true);
    expect(mentionsInText('email me@all.example', picked, ['all']).mentionAll).toBe(false);
  });
});
