import { segments } from './highlight.ts';

/** A snippet with its matches in <mark>: text nodes only, never HTML from the server. */
export function Highlighted({ text, ranges }: { text: string; ranges: readonly (readonly [number, number])[] }) {
  return (
    <>
      {segments(text, ranges).map((s, i) => (s.match ? <mark key={i}>{s.text}</mark> : <span key={i}>{s.text}</span>))}
    </>
  );
}
