import { useTranslation } from 'react-i18next';
import { changeLanguage, languages, type Language } from '../i18n/index.ts';

export function LanguageSwitch() {
  const { t, i18n } = useTranslation();
  return (
    <label className="inline-field">
      <span>{t('settings.language')}</span>
      <select
        aria-label={t('settings.language')}
        value={i18n.language}
        onChange={(e) => changeLanguage(e.target.value as Language)}
      >
        {languages.map((l) => (
          <option key={l.code} value={l.code}>
            {l.label}
          </option>
        ))}
      </select>
    </label>
  );
}
