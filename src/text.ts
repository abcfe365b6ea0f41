// String helpers for the hot path.

/**
 * `re.test(s)`, but through String.prototype.search: in njs 0.7.9 `RegExp.prototype.test` costs
 * ~2.5 µs a call where `search` costs ~0.1 µs (measured in the njs CLI), and the classifier runs
 * on every request. Never use a regex with the `g` or `y` flag here (search ignores lastIndex).
 */
export function matches(s: string, re: RegExp): boolean {
  return s.search(re) >= 0;
}
