import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { setupI18n } from './i18n/index.ts';
import { applyTheme, loadPrefs } from './state/prefs.ts';
import { App } from './components/App.tsx';
import './styles.css';
import 'highlight.js/styles/github.css';

setupI18n();
applyTheme(loadPrefs().theme);

if ('serviceWorker' in navigator && window.isSecureContext) {
  window.addEventListener('load', () => {
    navigator.serviceWorker.register('/sw.js').catch(() => {
      /* the shell still works online without it */
    });
  });
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
