import { distance } from 'fastest-levenshtein';

/**
 * The closest candidate to a misspelt word, or undefined when nothing is close enough to be a
 * plausible typo. Case is ignored; the threshold grows with the word (2 edits, or a third of
 * the length for long words).
 */
export function didYouMean(word: string, candidates: readonly string[]): string | undefined {
  const w = word.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = distance(w, c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  // Short words get 2 edits so a swapped pair of letters ('tpc' for 'tcp') still counts.
  const limit = w.length < 3 ? 1 : Math.max(2, Math.floor(w.length / 3));
  return best !== undefined && bestDistance <= limit ? best : undefined;
}

/** `'a', 'b' or 'c'` */
export function oneOf(values: readonly string[]): string {
  const q = values.map((v) => `'${v}'`);
  return q.length <= 1 ? (q[0] ?? '') : `${q.slice(0, -1).join(', ')} or ${q[q.length - 1]}`;
}
