import type { ConvEvent, ExportFormat, Message } from '@enclave/protocol';
import type { Deps, Viewer } from '../deps.ts';
import { loadAccess } from '../access.ts';
import { presentEvents, queryEvents } from '../conversations/read-events.ts';

const PAGE = 500;

export interface ExportHead {
  fileName: string;
  contentType: string;
  /** The body, produced page by page: memory stays bounded whatever the conversation's size. */
  chunks: AsyncGenerator<string>;
}

/**
 * Export a conversation as the viewer may see it (their visible ranges, sign-off and recall rules
 * applied by presentMessage): HTML (one self-contained page), JSON or CSV (UTF-8 with BOM so
 * spreadsheet programs read Chinese). Loads PAGE events at a time; the caller streams the chunks.
 * Writes one audit log line when the export starts and one when it completes.
 */
export async function exportConversation(
  deps: Deps,
  viewer: Viewer,
  conversationId: string,
  format: ExportFormat,
): Promise<ExportHead> {
  const exec = deps.store.bulk; // a whole conversation: off the event loop (decision 0005)
  const a = await loadAccess(deps, exec, viewer, conversationId);
  const convName = a.conv.kind === 'direct' ? await peerName(deps, viewer, a.conv.id) : a.conv.name || a.conv.kind;
  const names = new Map<string, string>();
  const audit = { audit: 'conversation.export', userId: viewer.uid, conversationId: a.conv.uid, format };
  deps.log.info(audit, 'conversation export started');

  async function* messages(): AsyncGenerator<Message[]> {
    let after = 0;
    for (;;) {
      const rows = await queryEvents(exec, a.conv.id, a.ranges, { after, limit: PAGE, desc: false });
      if (!rows.length) return;
      after = Number(rows.at(-1)!.seq);
      const events: ConvEvent[] = await presentEvents(deps, exec, viewer, a, rows);
      const msgs = events.filter((e) => e.type === 'message.created' && e.message).map((e) => e.message!);
      const unknown = [...new Set(msgs.map((m) => m.senderId as string))].filter((id) => !names.has(id));
      if (unknown.length) {
        const us = await exec
          .selectFrom('users')
          .select(['id', 'display_name'])
          .where('id', 'in', [...(await deps.directory.idsOf(unknown)).values()])
          .execute();
        const uids = await deps.directory.uidsOf(us.map((u) => Number(u.id)));
        for (const u of us) names.set(uids.get(Number(u.id))!, u.display_name);
      }
      if (msgs.length) yield msgs;
      if (rows.length < PAGE) return;
    }
  }
  const nameOf = (m: Message) => names.get(m.senderId) ?? m.senderId;
  const textOf = (m: Message) =>
    m.state === 'recalled'
      ? '[recalled 已撤回]'
      : m.state === 'withheld'
        ? '[awaiting sign-off 待签收]'
        : [m.content?.text ?? '', m.file ? `[file 文件] ${m.file.name}` : ''].filter(Boolean).join('\n');
  const exportedAt = new Date(deps.now()).toISOString();
  const safeName = (convName || 'conversation').replace(/[\\/:*?"<>|\s]+/g, '_').slice(0, 60);
  const stamp = exportedAt.slice(0, 10);
  let count = 0;
  const done = () => deps.log.info({ ...audit, messages: count }, 'conversation export completed');

  async function* json(): AsyncGenerator<string> {
    yield `{"conversation":${JSON.stringify({ id: a.conv.uid, kind: a.conv.kind, name: convName })},"exportedAt":${JSON.stringify(exportedAt)},"exportedBy":${JSON.stringify(viewer.uid)},"messages":[`;
    for await (const page of messages())
      for (const m of page) {
        yield (count++ ? ',\n' : '\n') + JSON.stringify({ ...m, senderName: nameOf(m) });
      }
    yield '\n]}\n';
    done();
  }
  async function* csv(): AsyncGenerator<string> {
    yield '\uFEFFseq,time,sender_id,sender_name,state,text\r\n';
    for await (const page of messages()) {
      let out = '';
      for (const m of page) {
        count++;
        out +=
          [m.seq, new Date(m.ts).toISOString(), m.senderId, nameOf(m), m.state, textOf(m)].map(csvCell).join(',') +
          '\r\n';
      }
      yield out;
    }
    done();
  }
  async function* html(): AsyncGenerator<string> {
    yield htmlHead(convName, exportedAt);
    for await (const page of messages()) {
      let out = '';
      for (const m of page) {
        count++;
        out +=
          `<article class="msg ${m.state}" id="m${m.seq}"><header><b>${esc(nameOf(m))}</b> ` +
          `<time datetime="${new Date(m.ts).toISOString()}">${new Date(m.ts).toISOString().replace('T', ' ').slice(0, 19)} UTC</time> ` +
          `<span class="seq">#${m.seq}</span></header><p>${esc(textOf(m))}</p></article>\n`;
      }
      yield out;
    }
    yield `</main><footer>${count} messages · 共 ${count} 条消息</footer></body></html>\n`;
    done();
  }
  const gen = format === 'json' ? json() : format === 'csv' ? csv() : html();
  return {
    fileName: `${safeName}-${stamp}.${format}`,
    contentType:
      format === 'json'
        ? 'application/json; charset=utf-8'
        : format === 'csv'
          ? 'text/csv; charset=utf-8'
          : 'text/html; charset=utf-8',
    chunks: gen,
  };
}

async function peerName(deps: Deps, viewer: Viewer, convId: number): Promise<string> {
  const r = await deps.store.reader
    .selectFrom('members as m')
    .innerJoin('users as u', 'u.id', 'm.user_id')
    .select('u.display_name')
    .where('m.conversation_id', '=', convId)
    .where('m.user_id', '!=', viewer.userId)
    .executeTakeFirst();
  return r?.display_name ?? '';
}

/** A CSV cell: quoted when needed; a leading = + - @ is prefixed with ' so spreadsheets do not run it. */
export function csvCell(v: unknown): string {
  let s = String(v);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function htmlHead(name: string, exportedAt: string): string {
  return `<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>${esc(name)} — Enclave</title>
<style>
body{font:15px/1.6 system-ui,-apple-system,"PingFang SC","Microsoft YaHei","Noto Sans CJK SC",sans-serif;margin:0;background:#f5f6f8;color:#1f2328}
header.top{background:#fff;border-bottom:1px solid #d0d7de;padding:16px 24px}
header.top h1{margin:0;font-size:20px}
header.top p{margin:4px 0 0;color:#57606a;font-size:13px}
main{max-width:860px;margin:0 auto;padding:16px 24px}
.msg{background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:8px 12px;margin:8px 0}
.msg header{font-size:13px;color:#57606a}.msg header b{color:#1f2328}
.msg p{margin:4px 0 0;white-space:pre-wrap;word-break:break-word}
.msg.recalled p,.msg.withheld p{color:#8c959f;font-style:italic}
.seq{float:right;color:#8c959f}
footer{text-align:center;color:#57606a;font-size:13px;padding:16px}
</style></head><body>
<header class="top"><h1>${esc(name)}</h1><p>Exported ${esc(exportedAt)} · 导出时间 ${esc(exportedAt)}</p></header>
<main>
`;
}
