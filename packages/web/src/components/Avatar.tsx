import type { PresenceState } from '@enclave/protocol';

const COLOURS = ['#1f6feb', '#0f9d58', '#e8710a', '#9334e6', '#d93025', '#12a4af', '#c5221f', '#5f6368'];

/** Initials on a colour picked from the id. */
export function initials(name: string, group = false): string {
  const n = name.trim();
  if (!n) return '?';
  // People: the given name (张三丰 → 三丰); groups: the start of the name (凤凰项目组 → 凤凰).
  if (/[\u3400-\u9fff]/u.test(n)) return (group ? [...n].slice(0, 2) : [...n].slice(-2)).join('');
  const parts = n.split(/[\s._-]+/).filter(Boolean);
  return ((parts[0]?.[0] ?? '') + (parts[1]?.[0] ?? '')).toUpperCase() || n[0]!.toUpperCase();
}

function colourOf(id: string): string {
  let h = 0;
  for (let i = 0; i < id.length; i++) h = (h * 31 + id.charCodeAt(i)) | 0;
  return COLOURS[Math.abs(h) % COLOURS.length]!;
}

export function Avatar({
  id,
  name,
  size = 36,
  presence,
  group,
}: {
  id: string;
  name: string;
  size?: number;
  presence?: PresenceState;
  group?: boolean;
}) {
  return (
    <span className={`avatar${group ? ' group' : ''}`} style={{ width: size, height: size, fontSize: size * 0.36 }}>
      <span className="avatar-face" style={{ background: colourOf(id) }} aria-hidden="true">
        {initials(name, group)}
      </span>
      {presence && <PresenceDot state={presence} />}
    </span>
  );
}

export function PresenceDot({ state }: { state: PresenceState }) {
  return <span className={`presence-dot ${state}`} data-presence={state} />;
}
