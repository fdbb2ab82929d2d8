/** One simple command found in a bash script. */
export interface SimpleCommand {
  /** Its words with quotes removed; redirections and their targets are left out. */
  words: string[];
  /** Its stdin is a pipe, file, heredoc or here-string, not the terminal. */
  stdinRedirected: boolean;
}

/**
 * The simple commands of a bash script, including those in pipelines, lists, subshells, `$(...)`,
 * backticks and process substitutions; heredoc bodies are skipped. An approximation of bash's
 * grammar that is good enough to find the program each command runs.
 */
export function simpleCommands(script: string): SimpleCommand[] {
  const scanner = new Scanner(script);
  scanner.list();
  return scanner.commands;
}

/** Stands in a word for the output of a command substitution. */
const SUBSTITUTION = '\u0000';
const REDIRECTION = /<<<|<<-|<<|<>|<&|>>|>&|>\||&>>|&>|<|>/y;
const SEPARATOR = /\|\||\|&|\||&&|&|;;|;/y;

function matchAt(pattern: RegExp, text: string, pos: number): string {
  pattern.lastIndex = pos;
  return pattern.exec(text)![0];
}

class Scanner {
  readonly commands: SimpleCommand[] = [];
  private pos = 0;
  private pendingHeredocs: { delimiter: string; stripTabs: boolean }[] = [];

  constructor(private readonly src: string) {}

  /** Scan commands up to the closing character of a nested construct, or to the end. */
  list(close?: string): void {
    let words: string[] = [];
    let stdinRedirected = false;
    let word: string | undefined;
    let next: 'word' | 'target' | 'heredoc' | 'heredoc-strip' = 'word';
    const endWord = () => {
      if (word === undefined) return;
      if (next === 'word') words.push(word);
      else if (next !== 'target') this.pendingHeredocs.push({ delimiter: word, stripTabs: next === 'heredoc-strip' });
      next = 'word';
      word = undefined;
    };
    const endCommand = (piped: boolean) => {
      endWord();
      if (words.length) this.commands.push({ words, stdinRedirected });
      words = [];
      stdinRedirected = piped;
    };
    const append = (text: string) => {
      word = (word ?? '') + text;
    };

    while (this.pos < this.src.length) {
      const c = this.src[this.pos]!;
      const pair = this.src.slice(this.pos, this.pos + 2);
      if (c === close) {
        this.pos++;
        endCommand(false);
        return;
      }
      if (c === '\n') {
        this.pos++;
        endCommand(false);
        this.skipHeredocBodies();
      } else if (c === ' ' || c === '\t') {
        this.pos++;
        endWord();
      } else if (c === '#' && word === undefined) {
        const eol = this.src.indexOf('\n', this.pos);
        this.pos = eol < 0 ? this.src.length : eol;
      } else if (c === '\\') {
        if (this.src[this.pos + 1] !== '\n') append(this.src[this.pos + 1] ?? '');
        this.pos += 2;
      } else if (c === "'") {
        append(this.until("'"));
      } else if (c === '"') {
        append(this.doubleQuoted());
      } else if (c === '`') {
        this.nested(1, '`');
        append(SUBSTITUTION);
      } else if (pair === '$(' || pair === '<(' || pair === '>(') {
        this.nested(2, ')');
        append(SUBSTITUTION);
      } else if (c === '<' || c === '>' || pair === '&>') {
        if (word !== undefined && /^\d+$/.test(word)) word = undefined; // a file descriptor, as in 2>
        endWord();
        const op = matchAt(REDIRECTION, this.src, this.pos);
        this.pos += op.length;
        next = op === '<<' ? 'heredoc' : op === '<<-' ? 'heredoc-strip' : 'target';
        if (op.startsWith('<')) stdinRedirected = true;
      } else if (c === '|' || c === '&' || c === ';') {
        const op = matchAt(SEPARATOR, this.src, this.pos);
        this.pos += op.length;
        endCommand(op === '|' || op === '|&');
      } else if (c === '(') {
        endCommand(false);
        this.nested(1, ')');
      } else if (c === ')') {
        this.pos++;
        endCommand(false);
      } else {
        append(c);
        this.pos++;
      }
    }
    endCommand(false);
  }

  private nested(openLength: number, close: string): void {
    this.pos += openLength;
    this.list(close);
  }

  /** The text up to the next `quote` (no escapes), leaving pos after it. */
  private until(quote: string): string {
    const end = this.src.indexOf(quote, this.pos + 1);
    const text = this.src.slice(this.pos + 1, end < 0 ? undefined : end);
    this.pos = end < 0 ? this.src.length : end + 1;
    return text;
  }

  private doubleQuoted(): string {
    let text = '';
    this.pos++;
    while (this.pos < this.src.length && this.src[this.pos] !== '"') {
      const c = this.src[this.pos]!;
      if (c === '\\') {
        text += this.src[this.pos + 1] ?? '';
        this.pos += 2;
      } else if (c === '`') {
        this.nested(1, '`');
        text += SUBSTITUTION;
      } else if (c === '$' && this.src[this.pos + 1] === '(') {
        this.nested(2, ')');
        text += SUBSTITUTION;
      } else {
        text += c;
        this.pos++;
      }
    }
    this.pos++;
    return text;
  }

  private skipHeredocBodies(): void {
    for (const { delimiter, stripTabs } of this.pendingHeredocs) {
      while (this.pos < this.src.length) {
        const eol = this.src.indexOf('\n', this.pos);
        const line = this.src.slice(this.pos, eol < 0 ? undefined : eol);
        this.pos = eol < 0 ? this.src.length : eol + 1;
        if ((stripTabs ? line.replace(/^\t+/, '') : line) === delimiter) break;
      }
    }
    this.pendingHeredocs = [];
  }
}
