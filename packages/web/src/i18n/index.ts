import i18next from 'i18next';
import { initReactI18next } from 'react-i18next';
import { en } from './en.ts';
import { zhCN } from './zh-CN.ts';

export type Language = 'zh-CN' | 'en';
export const languages: { code: Language; label: string }[] = [
  { code: 'zh-CN', label: '简体中文' },
  { code: 'en', label: 'English' },
];
const STORAGE_KEY = 'enclave.language';

/** The saved choice, else the browser's first preference: Chinese if any zh variant, otherwise English. */
export function initialLanguage(saved: string | null, browser: readonly string[]): Language {
  if (saved === 'zh-CN' || saved === 'en') return saved;
  for (const lang of browser) {
    const l = lang.toLowerCase();
    if (l.startsWith('zh')) return 'zh-CN';
    if (l.startsWith('en')) return 'en';
  }
  return 'zh-CN';
}

export function setupI18n(): typeof i18next {
  const saved = safeStorage()?.getItem(STORAGE_KEY) ?? null;
  const lng = initialLanguage(saved, navigator.languages ?? [navigator.language]);
  void i18next.use(initReactI18next).init({
    resources: { en: { translation: en }, 'zh-CN': { translation: zhCN } },
    lng,
    fallbackLng: 'en',
    interpolation: { escapeValue: false }, // React escapes
    returnObjects: true,
  });
  document.documentElement.lang = lng;
  return i18next;
}

export function changeLanguage(lng: Language): void {
  safeStorage()?.setItem(STORAGE_KEY, lng);
  document.documentElement.lang = lng;
  void i18next.changeLanguage(lng);
}

export function safeStorage(): Storage | null {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null;
  }
}
