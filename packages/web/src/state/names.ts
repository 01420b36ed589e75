/** Display names of people seen anywhere (peers, members, search results), for senders and mentions. */
export interface NameEntry {
  id: string;
  displayName: string;
  username: string;
}

export class Names {
  private readonly map = new Map<string, NameEntry>();
  private readonly listeners = new Set<() => void>();
  private version = 0;

  put(entries: Iterable<{ id: string; displayName: string; username?: string }>): void {
    let changed = false;
    for (const e of entries) {
      const old = this.map.get(e.id);
      const username = e.username ?? old?.username ?? '';
      if (old && old.displayName === e.displayName && old.username === username) continue;
      this.map.set(e.id, { id: e.id, displayName: e.displayName, username });
      changed = true;
    }
    if (!changed) return;
    this.version++;
    for (const l of this.listeners) l();
  }

  get(id: string): NameEntry | undefined {
    return this.map.get(id);
  }

  /** The name to show; the short id while unknown. */
  name(id: string): string {
    return this.map.get(id)?.displayName ?? id.slice(0, 8);
  }

  subscribe = (l: () => void): (() => void) => {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  };

  snapshot = (): number => this.version;
}
