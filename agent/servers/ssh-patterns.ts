// OpenSSH's pattern matching (match.c), shared by ssh_config and known_hosts: `*` and `?` are
// the only wildcards; everything else, `[` and `]` included, is a literal character.

/** match_pattern(): the whole string against one pattern, case-sensitive. */
export function matchPattern(text: string, pattern: string): boolean {
  // Iterative glob with backtracking to the last `*`, as match.c does recursively.
  let t = 0;
  let p = 0;
  let starP = -1;
  let starT = 0;
  while (t < text.length) {
    if (p < pattern.length && (pattern[p] === '?' || pattern[p] === text[t])) {
      t++;
      p++;
    } else if (p < pattern.length && pattern[p] === '*') {
      starP = p++;
      starT = t;
    } else if (starP >= 0) {
      p = starP + 1;
      t = ++starT;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern[p] === '*') p++;
  return p === pattern.length;
}

/**
 * match_pattern_list(): a comma-separated list with `!negations`. 1 when a positive pattern
 * matches and no negated one does, -1 when a negated one matches, 0 otherwise.
 * `lower` lowercases the patterns (the caller lowercases the string).
 */
export function matchPatternList(text: string, list: string, lower: boolean): 1 | 0 | -1 {
  let positive = false;
  for (let sub of list.split(',')) {
    const negated = sub.startsWith('!');
    if (negated) sub = sub.slice(1);
    if (lower) sub = sub.toLowerCase();
    if (matchPattern(text, sub)) {
      if (negated) return -1;
      positive = true;
    }
  }
  return positive ? 1 : 0;
}

/** match_hostname(): host names compare case-insensitively. */
export function matchHostname(host: string, list: string): 1 | 0 | -1 {
  return matchPatternList(host.toLowerCase(), list, true);
}
