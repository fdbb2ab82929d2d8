import { simpleCommands } from './shellCommands.js';

const EDITOR = 'View files with `open <path>` and change them with `edit`, `insert` or `create`.';
const PAGER = 'Use `open <path>`, `cat`, `head`, `tail` or `search_file <term> <path>`.';
const MONITOR = 'Take a one-off snapshot instead, e.g. `ps aux`, `free -m` or `nvidia-smi`.';
const MULTIPLEXER = 'Run the command directly; it may run up to the training timeout.';

/** Programs that need a terminal whatever their arguments. */
const INTERACTIVE: Record<string, string> = {
  vi: EDITOR,
  vim: EDITOR,
  nvim: EDITOR,
  vimdiff: EDITOR,
  view: EDITOR,
  nano: EDITOR,
  pico: EDITOR,
  emacs: EDITOR,
  joe: EDITOR,
  mcedit: EDITOR,
  less: PAGER,
  more: PAGER,
  most: PAGER,
  man: 'Run `<program> --help` instead.',
  info: 'Run `<program> --help` instead.',
  top: MONITOR,
  htop: MONITOR,
  atop: MONITOR,
  btop: MONITOR,
  nvtop: MONITOR,
  watch: MONITOR,
  screen: MULTIPLEXER,
  tmux: MULTIPLEXER,
};

/** Interpreters and shells: interactive when started with nothing to run. */
const REPL = /^(python[0-9.]*|ipython[0-9]*|bash|sh|dash|zsh|ksh|fish|node)$/;
const SHELL = /^(bash|sh|dash|zsh|ksh)$/;
const INFO_FLAGS = new Set(['-h', '--help', '-V', '-VV', '--version']);

/** Words that open or close compound commands: the program follows them. */
const KEYWORDS = new Set(['if', 'then', 'else', 'elif', 'fi', 'do', 'done', 'while', 'until', '!', '{', '}', 'function']);
/** Headers whose words are not a command (`for x in a b`, `case $x in`). */
const HEADERS = new Set(['for', 'case', 'select', 'in', 'esac']);
/** Programs that run another program: options that take a value, then how many plain arguments precede it. */
const WRAPPERS: Record<string, { valued: string[]; skip: number }> = {
  sudo: { valued: ['-u', '-g'], skip: 0 },
  env: { valued: ['-u', '-C'], skip: 0 },
  nohup: { valued: [], skip: 0 },
  exec: { valued: ['-a'], skip: 0 },
  command: { valued: [], skip: 0 },
  builtin: { valued: [], skip: 0 },
  time: { valued: ['-f', '-o'], skip: 0 },
  nice: { valued: ['-n'], skip: 0 },
  timeout: { valued: ['-s', '-k'], skip: 1 },
  stdbuf: { valued: ['-i', '-o', '-e'], skip: 0 },
  xargs: { valued: ['-I', '-n', '-P', '-d', '-L', '-s', '-E'], skip: 0 },
};
const ASSIGNMENT = /^[A-Za-z_][A-Za-z0-9_]*\+?=/;

function basename(word: string): string {
  return word.slice(word.lastIndexOf('/') + 1);
}

/** The program a simple command runs (past keywords, variable assignments and wrappers) and its arguments. */
function program(words: string[]): { name: string; args: string[] } | undefined {
  let i = 0;
  while (i < words.length) {
    const word = words[i]!;
    if (HEADERS.has(word)) return undefined;
    if (KEYWORDS.has(word) || ASSIGNMENT.test(word)) {
      i++;
      continue;
    }
    const wrapper = WRAPPERS[basename(word)];
    if (!wrapper) return { name: basename(word), args: words.slice(i + 1) };
    i++;
    while (words[i]?.startsWith('-')) i += wrapper.valued.includes(words[i]!) ? 2 : 1;
    i += wrapper.skip;
  }
  return undefined;
}

function refusal(name: string, why: string, advice: string): string {
  return `Refused: \`${name}\` ${why}, and this environment has no terminal. ${advice}`;
}

/** The programs a script runs (every command of every pipeline, list and substitution). */
export function programsOf(script: string): string[] {
  return simpleCommands(script).flatMap((command) => program(command.words)?.name ?? []);
}

/**
 * A refusal message if the command would start an interactive program (checked for every command of
 * every pipeline, list and substitution, by program name), else undefined.
 */
export function refuseInteractive(script: string): string | undefined {
  for (const command of simpleCommands(script)) {
    const found = program(command.words);
    const refused = found && refuseProgram(found.name, found.args, command.stdinRedirected);
    if (refused) return refused;
  }
  return undefined;
}

function refuseProgram(name: string, args: string[], stdinRedirected: boolean): string | undefined {
  const advice = INTERACTIVE[name];
  if (advice) return refusal(name, 'is interactive', advice);
  if (name === 'eval') return refuseInteractive(args.join(' '));
  if (!REPL.test(name)) return undefined;
  const firstPlain = args.findIndex((a) => !a.startsWith('-'));
  const options = firstPlain < 0 ? args : args.slice(0, firstPlain);
  if (SHELL.test(name) && firstPlain >= 0 && options.some((o) => /^-[a-z]*c[a-z]*$/.test(o))) return refuseInteractive(args[firstPlain]!);
  if (name.includes('python') && options.includes('-i')) {
    return refusal(`${name} -i`, 'opens an interactive session', `Run \`${name} <script.py>\` without -i.`);
  }
  if (stdinRedirected || firstPlain >= 0 || options.some((o) => INFO_FLAGS.has(o))) return undefined;
  const instead = SHELL.test(name) ? 'Run the commands directly instead of starting a shell.' : `Write the code to a file and run \`${name} <file>\`, or use \`${name} -c '<code>'\`.`;
  return refusal(name, 'with nothing to run starts an interactive session', instead);
}
