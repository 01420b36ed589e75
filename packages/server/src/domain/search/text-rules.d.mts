export function normalize(s: string): string;
export function isCjk(ch: string): boolean;
export function segments(text: string): { cjk: boolean; chars: string[] }[];
export const MAX_WORD: number;
export function bigramText(normalized: string): string;
