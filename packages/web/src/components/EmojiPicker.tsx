import { useEffect, useRef } from 'react';
import { useTranslation } from 'react-i18next';
import { EMOJI_GROUPS } from '../state/emoji.ts';

/** The bundled emoji set in a popover; Esc or a click outside closes it. */
export function EmojiPicker({ onPick, onClose }: { onPick: (emoji: string) => void; onClose: () => void }) {
  const { t } = useTranslation();
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => e.key === 'Escape' && onClose();
    const onDown = (e: MouseEvent) => {
      if (box.current && !box.current.contains(e.target as Node)) onClose();
    };
    window.addEventListener('keydown', onKey);
    window.addEventListener('mousedown', onDown);
    return () => {
      window.removeEventListener('keydown', onKey);
      window.removeEventListener('mousedown', onDown);
    };
  }, [onClose]);
  return (
    <div className="emoji-picker" ref={box} role="dialog" aria-label={t('composer.emoji')} data-testid="emoji-picker">
      {EMOJI_GROUPS.map((g) => (
        <div key={g.id} className="emoji-group">
          {g.emoji.map((e) => (
            <button key={e} className="emoji" onClick={() => onPick(e)} aria-label={e}>
              {e}
            </button>
          ))}
        </div>
      ))}
    </div>
  );
}
