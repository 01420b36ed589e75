import { safeStorage } from '../i18n/index.ts';

/** Per-browser preferences (not per account): theme, notifications, sound, do-not-disturb. */
export interface Prefs {
  theme: 'light' | 'dark' | 'system';
  notify: boolean;
  sound: boolean;
  dnd: boolean;
}

const KEY = 'enclave.prefs';
const DEFAULTS: Prefs = { theme: 'system', notify: true, sound: false, dnd: false };

export function loadPrefs(): Prefs {
  try {
    const raw = safeStorage()?.getItem(KEY);
    if (!raw) return DEFAULTS;
    const p = JSON.parse(raw) as Partial<Prefs>;
    return {
      theme: p.theme === 'light' || p.theme === 'dark' || p.theme === 'system' ? p.theme : DEFAULTS.theme,
      notify: typeof p.notify === 'boolean' ? p.notify : DEFAULTS.notify,
      sound: typeof p.sound === 'boolean' ? p.sound : DEFAULTS.sound,
      dnd: typeof p.dnd === 'boolean' ? p.dnd : DEFAULTS.dnd,
    };
  } catch {
    return DEFAULTS;
  }
}

export function savePrefs(p: Prefs): void {
  safeStorage()?.setItem(KEY, JSON.stringify(p));
}

export function applyTheme(theme: Prefs['theme']): void {
  const dark =
    theme === 'dark' || (theme === 'system' && globalThis.matchMedia?.('(prefers-color-scheme: dark)').matches);
  document.documentElement.dataset.theme = dark ? 'dark' : 'light';
}

/** Drafts per conversation, kept across reloads (nothing typed is lost). */
export function loadDraft(conversationId: string): string {
  return safeStorage()?.getItem(`enclave.draft.${conversationId}`) ?? '';
}

export function saveDraft(conversationId: string, text: string): void {
  const s = safeStorage();
  if (!s) return;
  if (text) s.setItem(`enclave.draft.${conversationId}`, text);
  else s.removeItem(`enclave.draft.${conversationId}`);
}
