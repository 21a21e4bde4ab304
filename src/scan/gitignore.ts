// A practical subset of gitignore semantics: comments, blank lines, `!` negation, `\` escapes, trailing-space trimming,
// directory-only patterns (`dir/`), anchoring (a `/` at the start or in the middle), `*`, `?`, `[...]` and `**`.
// Not supported: `.git/info/exclude`, `core.excludesFile`, and re-including a file below an excluded directory
// (git does not allow that either, and we never descend into excluded directories).

interface Rule {
  regex: RegExp;
  negated: boolean;
  dirOnly: boolean;
}

export interface IgnoreFile {
  /** Absolute directory holding the .gitignore; patterns are relative to it. */
  dir: string;
  rules: Rule[];
}

export function parseGitignore(dir: string, text: string): IgnoreFile {
  const rules: Rule[] = [];
  for (let line of text.split(/\r?\n/)) {
    if (line === '' || line.startsWith('#')) continue;
    // Trailing spaces are ignored unless escaped with a backslash.
    line = line.replace(/(?<!\\)\s+$/, '');
    if (line === '') continue;
    let negated = false;
    if (line.startsWith('!')) {
      negated = true;
      line = line.slice(1);
    } else if (line.startsWith('\\!') || line.startsWith('\\#')) {
      line = line.slice(1);
    }
    let dirOnly = false;
    if (line.endsWith('/')) {
      dirOnly = true;
      line = line.replace(/\/+$/, '');
    }
    if (line === '') continue;
    const anchored = line.includes('/');
    if (line.startsWith('/')) line = line.slice(1);
    const body = globToRegex(line);
    // Unanchored patterns match at any depth; anything matched also covers what is below it (handled by the walker).
    const regex = new RegExp(anchored ? `^${body}$` : `^(?:.*/)?${body}$`);
    rules.push({ regex, negated, dirOnly });
  }
  return { dir, rules };
}

function globToRegex(glob: string): string {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') {
      if (glob[i + 1] === '*') {
        const atStart = i === 0 || glob[i - 1] === '/';
        const atEnd = i + 2 === glob.length || glob[i + 2] === '/';
        if (atStart && atEnd) {
          if (i + 2 === glob.length) out += '.*';       // `foo/**` → everything inside
          else { out += '(?:.*/)?'; i++; }               // `**/` → zero or more directories
          i++;
          continue;
        }
        i++;
        out += '[^/]*';
        continue;
      }
      out += '[^/]*';
    } else if (c === '?') {
      out += '[^/]';
    } else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end < 0) { out += '\\['; continue; }
      let cls = glob.slice(i + 1, end);
      if (cls.startsWith('!')) cls = '^' + cls.slice(1);
      out += `[${cls.replace(/\\/g, '\\\\')}]`;
      i = end;
    } else if (c === '\\' && i + 1 < glob.length) {
      out += escapeRegex(glob[++i]!);
    } else {
      out += escapeRegex(c);
    }
  }
  return out;
}

function escapeRegex(c: string): string {
  return /[.*+?^${}()|[\]\\/]/.test(c) ? `\\${c}` : c;
}

/**
 * Whether a path is ignored by a stack of .gitignore files (outermost first). Later files and later rules win,
 * as in git. `relFrom(dir)` gives the path relative to a .gitignore's directory with forward slashes.
 */
export function isIgnored(stack: readonly IgnoreFile[], absPath: string, isDir: boolean, relFrom: (dir: string, abs: string) => string | undefined): boolean {
  let ignored = false;
  for (const file of stack) {
    const rel = relFrom(file.dir, absPath);
    if (rel === undefined || rel === '') continue;
    for (const rule of file.rules) {
      if (rule.dirOnly && !isDir) continue;
      if (rule.regex.test(rel)) ignored = !rule.negated;
    }
  }
  return ignored;
}
