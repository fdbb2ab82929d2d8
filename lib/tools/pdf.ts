// The text of a PDF, page by page, for the parse_pdf_url tool: enough of the PDF format to read papers
// (objects and object streams, Flate/ASCIIHex/ASCII85 streams with PNG predictors, the page tree, simple
// and composite fonts with ToUnicode maps, standard encodings and Differences, form XObjects), written
// for this repository. Images, scanned pages and encrypted files give no text.
import { constants, inflateSync } from 'node:zlib';

class Name {
  constructor(readonly name: string) {}
}
class Ref {
  constructor(
    readonly num: number,
    readonly gen: number,
  ) {}
}
class Keyword {
  constructor(readonly word: string) {}
}
type Dict = Map<string, Value>;
interface Stream {
  dict: Dict;
  raw: Buffer;
}
type Value = number | boolean | null | Name | Buffer | Ref | Value[] | Dict | Stream | Keyword;

const isDict = (v: unknown): v is Dict => v instanceof Map;
const isStream = (v: unknown): v is Stream => typeof v === 'object' && v !== null && 'raw' in v && 'dict' in v;

/** Limits that keep a hostile PDF from using unbounded time or memory. */
const MAX_STREAM_BYTES = 64 << 20;
const MAX_PAGES = 500;
const MAX_FORM_DEPTH = 8;
const MAX_TEXT_CHARS = 4_000_000;

const WHITESPACE = new Set([0, 9, 10, 12, 13, 32]);
const DELIMITERS = new Set([0x28, 0x29, 0x3c, 0x3e, 0x5b, 0x5d, 0x7b, 0x7d, 0x2f, 0x25]);

/** Reads PDF tokens and objects from a buffer (a file, an object stream or a content stream). */
class Lexer {
  pos: number;
  constructor(
    readonly buf: Buffer,
    pos = 0,
  ) {
    this.pos = pos;
  }

  skipSpace(): void {
    const b = this.buf;
    while (this.pos < b.length) {
      const c = b[this.pos]!;
      if (WHITESPACE.has(c)) this.pos++;
      else if (c === 0x25) {
        while (this.pos < b.length && b[this.pos] !== 10 && b[this.pos] !== 13) this.pos++;
      } else break;
    }
  }

  /** The next token: a value, or '[' ']' '<<' '>>' '{' '}' as strings; undefined at the end. */
  token(): Value | string | undefined {
    this.skipSpace();
    const b = this.buf;
    if (this.pos >= b.length) return undefined;
    const c = b[this.pos]!;
    if (c === 0x5b || c === 0x5d || c === 0x7b || c === 0x7d) {
      this.pos++;
      return String.fromCharCode(c);
    }
    if (c === 0x3c) {
      if (b[this.pos + 1] === 0x3c) {
        this.pos += 2;
        return '<<';
      }
      return this.hexString();
    }
    if (c === 0x3e) {
      this.pos += b[this.pos + 1] === 0x3e ? 2 : 1;
      return '>>';
    }
    if (c === 0x28) return this.literalString();
    if (c === 0x2f) return this.name();
    const start = this.pos;
    while (this.pos < b.length && !WHITESPACE.has(b[this.pos]!) && !DELIMITERS.has(b[this.pos]!)) this.pos++;
    if (this.pos === start) {
      this.pos++;
      return new Keyword(String.fromCharCode(c));
    }
    const word = b.toString('latin1', start, this.pos);
    if (/^[+-]?(\d+\.?\d*|\.\d+)$/.test(word)) return Number(word);
    if (word === 'true') return true;
    if (word === 'false') return false;
    if (word === 'null') return null;
    return new Keyword(word);
  }

  private name(): Name {
    const b = this.buf;
    this.pos++;
    const bytes: number[] = [];
    while (this.pos < b.length && !WHITESPACE.has(b[this.pos]!) && !DELIMITERS.has(b[this.pos]!)) {
      if (b[this.pos] === 0x23 && /^[0-9a-fA-F]{2}$/.test(b.toString('latin1', this.pos + 1, this.pos + 3))) {
        bytes.push(parseInt(b.toString('latin1', this.pos + 1, this.pos + 3), 16));
        this.pos += 3;
      } else bytes.push(b[this.pos++]!);
    }
    return new Name(Buffer.from(bytes).toString('latin1'));
  }

  private hexString(): Buffer {
    const b = this.buf;
    this.pos++;
    let hex = '';
    while (this.pos < b.length && b[this.pos] !== 0x3e) {
      const ch = String.fromCharCode(b[this.pos]!);
      if (/[0-9a-fA-F]/.test(ch)) hex += ch;
      this.pos++;
    }
    this.pos++;
    if (hex.length % 2) hex += '0';
    return Buffer.from(hex, 'hex');
  }

  private literalString(): Buffer {
    const b = this.buf;
    this.pos++;
    const out: number[] = [];
    let depth = 1;
    while (this.pos < b.length) {
      const c = b[this.pos++]!;
      if (c === 0x5c) {
        const n = b[this.pos++];
        if (n === undefined) break;
        const simple: Record<number, number> = { 0x6e: 10, 0x72: 13, 0x74: 9, 0x62: 8, 0x66: 12, 0x28: 0x28, 0x29: 0x29, 0x5c: 0x5c };
        if (n in simple) out.push(simple[n]!);
        else if (n >= 0x30 && n <= 0x37) {
          let octal = n - 0x30;
          for (let i = 0; i < 2 && b[this.pos]! >= 0x30 && b[this.pos]! <= 0x37; i++) octal = octal * 8 + (b[this.pos++]! - 0x30);
          out.push(octal & 0xff);
        } else if (n === 13) {
          if (b[this.pos] === 10) this.pos++;
        } else if (n !== 10) out.push(n);
      } else if (c === 0x28) {
        depth++;
        out.push(c);
      } else if (c === 0x29) {
        if (--depth === 0) break;
        out.push(c);
      } else out.push(c);
    }
    return Buffer.from(out);
  }

  /** A whole value: numbers followed by `G R` are references; arrays and dictionaries are read to their end. */
  value(first?: Value | string): Value | undefined {
    const t = first === undefined ? this.token() : first;
    if (t === undefined || t === ']' || t === '>>' || t === '}') return undefined;
    if (t === '[') {
      const items: Value[] = [];
      for (;;) {
        const next = this.token();
        if (next === undefined || next === ']') return items;
        const v = this.value(next);
        if (v !== undefined) items.push(v);
      }
    }
    if (t === '<<') {
      const dict: Dict = new Map();
      for (;;) {
        const key = this.token();
        if (key === undefined || key === '>>') return dict;
        if (!(key instanceof Name)) continue;
        const v = this.value();
        if (v !== undefined) dict.set(key.name, v);
      }
    }
    if (t === '{') return this.value();
    if (typeof t === 'number' && Number.isInteger(t)) {
      const saved = this.pos;
      const gen = this.token();
      if (typeof gen === 'number' && Number.isInteger(gen)) {
        const r = this.token();
        if (r instanceof Keyword && r.word === 'R') return new Ref(t, gen);
      }
      this.pos = saved;
    }
    return t as Value;
  }
}

// --- Streams -------------------------------------------------------------------------------------

function pngUnpredict(data: Buffer, columns: number, colors: number, bits: number): Buffer {
  const bpp = Math.max(1, Math.ceil((colors * bits) / 8));
  const rowLength = Math.ceil((columns * colors * bits) / 8);
  const rows = Math.floor(data.length / (rowLength + 1));
  const out = Buffer.alloc(rows * rowLength);
  let previous = Buffer.alloc(rowLength);
  for (let r = 0; r < rows; r++) {
    const type = data[r * (rowLength + 1)]!;
    const row = Buffer.from(data.subarray(r * (rowLength + 1) + 1, (r + 1) * (rowLength + 1)));
    for (let i = 0; i < rowLength; i++) {
      const left = i >= bpp ? row[i - bpp]! : 0;
      const up = previous[i]!;
      const upLeft = i >= bpp ? previous[i - bpp]! : 0;
      let add = 0;
      if (type === 1) add = left;
      else if (type === 2) add = up;
      else if (type === 3) add = (left + up) >> 1;
      else if (type === 4) {
        const p = left + up - upLeft;
        const [pa, pb, pc] = [Math.abs(p - left), Math.abs(p - up), Math.abs(p - upLeft)];
        add = pa <= pb && pa <= pc ? left : pb <= pc ? up : upLeft;
      }
      row[i] = (row[i]! + add) & 0xff;
    }
    row.copy(out, r * rowLength);
    previous = row;
  }
  return out;
}

function asciiHex(data: Buffer): Buffer {
  const text = data.toString('latin1');
  const end = text.indexOf('>');
  let hex = (end >= 0 ? text.slice(0, end) : text).replace(/[^0-9a-fA-F]/g, '');
  if (hex.length % 2) hex += '0';
  return Buffer.from(hex, 'hex');
}

function ascii85(data: Buffer): Buffer {
  let text = data.toString('latin1').replace(/\s+/g, '');
  if (text.startsWith('<~')) text = text.slice(2);
  const end = text.indexOf('~>');
  if (end >= 0) text = text.slice(0, end);
  const out: number[] = [];
  let group: number[] = [];
  const flush = (n: number) => {
    while (group.length < 5) group.push(84);
    let value = 0;
    for (const g of group) value = value * 85 + g;
    for (let i = 3; i >= 4 - n; i--) out.push((value >>> (8 * i)) & 0xff);
    group = [];
  };
  for (const ch of text) {
    if (ch === 'z' && group.length === 0) {
      out.push(0, 0, 0, 0);
      continue;
    }
    const code = ch.charCodeAt(0) - 33;
    if (code < 0 || code > 84) continue;
    group.push(code);
    if (group.length === 5) flush(4);
  }
  if (group.length > 1) flush(group.length - 1);
  return Buffer.from(out);
}

// --- The document --------------------------------------------------------------------------------

export interface PdfPages {
  pages: string[];
}

class PdfDocument {
  readonly objects = new Map<number, Value>();
  private readonly decoded = new WeakMap<Stream, Buffer | null>();

  constructor(readonly buf: Buffer) {
    const text = buf.toString('latin1');
    const header = /(\d+)\s+(\d+)\s+obj\b/g;
    for (let m = header.exec(text); m; m = header.exec(text)) {
      const lexer = new Lexer(buf, m.index + m[0].length);
      let value: Value | undefined;
      try {
        value = lexer.value();
      } catch {
        continue;
      }
      if (value === undefined) continue;
      let end = lexer.pos;
      if (isDict(value)) {
        lexer.skipSpace();
        if (text.startsWith('stream', lexer.pos)) {
          const stream = this.readStream(value, lexer.pos + 6, text);
          value = stream;
          // Go on after the stream's data: compressed bytes may look like an object header.
          end = stream.raw.byteOffset - buf.byteOffset + stream.raw.length;
        }
      }
      this.objects.set(Number(m[1]), value);
      header.lastIndex = Math.max(header.lastIndex, end);
    }
    for (const value of [...this.objects.values()]) {
      if (isStream(value) && this.name(value.dict.get('Type')) === 'ObjStm') this.readObjectStream(value);
    }
  }

  private readStream(dict: Dict, after: number, text: string): Stream {
    let start = after;
    if (text[start] === '\r') start++;
    if (text[start] === '\n') start++;
    const length = dict.get('Length');
    if (typeof length === 'number' && length >= 0 && start + length <= this.buf.length && /^\s*endstream/.test(text.slice(start + length, start + length + 20))) {
      return { dict, raw: this.buf.subarray(start, start + length) };
    }
    const end = text.indexOf('endstream', start);
    let stop = end < 0 ? this.buf.length : end;
    if (text[stop - 1] === '\n') stop--;
    if (text[stop - 1] === '\r') stop--;
    return { dict, raw: this.buf.subarray(start, Math.max(start, stop)) };
  }

  private readObjectStream(stream: Stream): void {
    const data = this.streamData(stream);
    const n = this.resolve(stream.dict.get('N'));
    const first = this.resolve(stream.dict.get('First'));
    if (!data || typeof n !== 'number' || typeof first !== 'number') return;
    const lexer = new Lexer(data);
    const entries: [number, number][] = [];
    for (let i = 0; i < n; i++) {
      const num = lexer.token();
      const offset = lexer.token();
      if (typeof num !== 'number' || typeof offset !== 'number') break;
      entries.push([num, offset]);
    }
    for (const [num, offset] of entries) {
      if (this.objects.has(num)) continue;
      try {
        const value = new Lexer(data, first + offset).value();
        if (value !== undefined) this.objects.set(num, value);
      } catch {
        // an unreadable object is left out
      }
    }
  }

  resolve(value: Value | undefined, depth = 0): Value | undefined {
    if (value instanceof Ref && depth < 32) return this.resolve(this.objects.get(value.num), depth + 1);
    return value;
  }

  dict(value: Value | undefined): Dict | undefined {
    const v = this.resolve(value);
    if (isDict(v)) return v;
    if (isStream(v)) return v.dict;
    return undefined;
  }

  name(value: Value | undefined): string | undefined {
    const v = this.resolve(value);
    return v instanceof Name ? v.name : undefined;
  }

  array(value: Value | undefined): Value[] {
    const v = this.resolve(value);
    return Array.isArray(v) ? v : v === undefined || v === null ? [] : [v];
  }

  /** A stream's decoded bytes; null when a filter is one we do not read (images) or the data is broken. */
  streamData(stream: Stream): Buffer | null {
    if (this.decoded.has(stream)) return this.decoded.get(stream)!;
    let data: Buffer | null = stream.raw;
    const filters = this.array(stream.dict.get('Filter') ?? stream.dict.get('F')).map((f) => this.name(f));
    const params = this.array(stream.dict.get('DecodeParms') ?? stream.dict.get('DP'));
    filters.forEach((filter, i) => {
      if (!data) return;
      try {
        if (filter === 'FlateDecode' || filter === 'Fl') {
          data = inflateSync(data, { finishFlush: constants.Z_SYNC_FLUSH, maxOutputLength: MAX_STREAM_BYTES });
          const p = this.dict(params[i]);
          const predictor = this.resolve(p?.get('Predictor'));
          if (typeof predictor === 'number' && predictor >= 10) {
            const num = (key: string, fallback: number) => {
              const v = this.resolve(p?.get(key));
              return typeof v === 'number' ? v : fallback;
            };
            data = pngUnpredict(data, num('Columns', 1), num('Colors', 1), num('BitsPerComponent', 8));
          }
        } else if (filter === 'ASCIIHexDecode' || filter === 'AHx') data = asciiHex(data);
        else if (filter === 'ASCII85Decode' || filter === 'A85') data = ascii85(data);
        else data = null;
      } catch {
        data = null;
      }
    });
    this.decoded.set(stream, data);
    return data;
  }

  /** The pages in order, each with its (inherited) resources. */
  pages(): { page: Dict; resources: Dict | undefined }[] {
    const out: { page: Dict; resources: Dict | undefined }[] = [];
    const seen = new Set<Dict>();
    const walk = (node: Dict | undefined, inherited: Dict | undefined) => {
      if (!node || seen.has(node) || out.length >= MAX_PAGES) return;
      seen.add(node);
      const resources = this.dict(node.get('Resources')) ?? inherited;
      const kids = node.get('Kids');
      if (kids !== undefined && this.name(node.get('Type')) !== 'Page') {
        for (const kid of this.array(kids)) walk(this.dict(kid), resources);
      } else out.push({ page: node, resources });
    };
    const catalogs = [...this.objects.values()].filter((v) => isDict(v) && this.name(v.get('Type')) === 'Catalog') as Dict[];
    walk(this.dict(catalogs.at(-1)?.get('Pages')), undefined);
    if (out.length) return out;
    // No page tree: every page object, in object-number order, with its parents' resources.
    const numbers = [...this.objects.keys()].sort((a, b) => a - b);
    for (const num of numbers) {
      const page = this.dict(this.objects.get(num));
      if (!page || this.name(page.get('Type')) !== 'Page' || out.length >= MAX_PAGES) continue;
      let resources = this.dict(page.get('Resources'));
      for (let parent = this.dict(page.get('Parent')), i = 0; !resources && parent && i < 32; parent = this.dict(parent.get('Parent')), i++) {
        resources = this.dict(parent.get('Resources'));
      }
      out.push({ page, resources });
    }
    return out;
  }

  /** The page's content: its content streams, decoded and joined. */
  contents(page: Dict): Buffer {
    const parts = this.array(page.get('Contents')).flatMap((c) => {
      const stream = this.resolve(c);
      const data = isStream(stream) ? this.streamData(stream) : null;
      return data ? [data, Buffer.from('\n')] : [];
    });
    return Buffer.concat(parts);
  }
}

// --- Fonts ---------------------------------------------------------------------------------------

/** Glyph names that are not a letter, a digit name or uniXXXX. */
const GLYPHS: Record<string, string> = {
  space: ' ', exclam: '!', quotedbl: '"', numbersign: '#', dollar: '$', percent: '%', ampersand: '&', quotesingle: "'", quoteright: '\u2019',
  parenleft: '(', parenright: ')', asterisk: '*', plus: '+', comma: ',', hyphen: '-', period: '.', slash: '/', colon: ':', semicolon: ';',
  less: '<', equal: '=', greater: '>', question: '?', at: '@', bracketleft: '[', backslash: '\\', bracketright: ']', asciicircum: '^',
  underscore: '_', quoteleft: '\u2018', grave: '`', braceleft: '{', bar: '|', braceright: '}', asciitilde: '~', quotedblleft: '\u201c',
  quotedblright: '\u201d', quotesinglbase: '\u201a', quotedblbase: '\u201e', endash: '\u2013', emdash: '\u2014', bullet: '\u2022',
  dagger: '\u2020', daggerdbl: '\u2021', ellipsis: '\u2026', periodcentered: '\u00b7', minus: '\u2212', multiply: '\u00d7', divide: '\u00f7',
  degree: '\u00b0', plusminus: '\u00b1', section: '\u00a7', paragraph: '\u00b6', copyright: '\u00a9', registered: '\u00ae', trademark: '\u2122',
  fi: 'fi', fl: 'fl', ff: 'ff', ffi: 'ffi', ffl: 'ffl', dotlessi: '\u0131', germandbls: '\u00df', ae: '\u00e6', AE: '\u00c6', oe: '\u0153',
  OE: '\u0152', oslash: '\u00f8', Oslash: '\u00d8', lslash: '\u0142', Lslash: '\u0141', guillemotleft: '\u00ab', guillemotright: '\u00bb',
  guilsinglleft: '\u2039', guilsinglright: '\u203a', exclamdown: '\u00a1', questiondown: '\u00bf', cent: '\u00a2', sterling: '\u00a3',
  yen: '\u00a5', Euro: '\u20ac', florin: '\u0192', fraction: '\u2044', perthousand: '\u2030', circumflex: '\u02c6', tilde: '\u02dc',
  macron: '\u00af', breve: '\u02d8', dotaccent: '\u02d9', dieresis: '\u00a8', ring: '\u02da', cedilla: '\u00b8', hungarumlaut: '\u02dd',
  ogonek: '\u02db', caron: '\u02c7', acute: '\u00b4', logicalnot: '\u00ac', mu: '\u00b5', nbspace: ' ', sfthyphen: '-', infinity: '\u221e',
  lessequal: '\u2264', greaterequal: '\u2265', notequal: '\u2260', approxequal: '\u2248', summation: '\u2211', product: '\u220f',
  radical: '\u221a', integral: '\u222b', partialdiff: '\u2202', arrowright: '\u2192', arrowleft: '\u2190', element: '\u2208', prime: '\u2032',
};
const GREEK = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta', 'eta', 'theta', 'iota', 'kappa', 'lambda', 'mu', 'nu', 'xi', 'omicron', 'pi', 'rho', 'sigma', 'tau', 'upsilon', 'phi', 'chi', 'psi', 'omega'];
GREEK.forEach((g, i) => {
  const lower = 0x3b1 + i + (i >= 17 ? 1 : 0); // final sigma sits between rho and sigma
  GLYPHS[g] ??= String.fromCodePoint(lower);
  GLYPHS[g[0]!.toUpperCase() + g.slice(1)] = String.fromCodePoint(lower - 0x20);
});
const DIGITS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'];
DIGITS.forEach((d, i) => (GLYPHS[d] = String(i)));
const ACCENTS: Record<string, string> = { acute: '\u0301', grave: '\u0300', circumflex: '\u0302', dieresis: '\u0308', tilde: '\u0303', ring: '\u030a', cedilla: '\u0327', caron: '\u030c', macron: '\u0304', breve: '\u0306', dotaccent: '\u0307', ogonek: '\u0328', hungarumlaut: '\u030b' };

/** The text of a glyph name (Adobe's naming: letters, names, uniXXXX, uXXXX, accented letters, ligatures with "_"). */
export function glyphText(name: string): string {
  const base = name.split('.')[0]!;
  if (base.includes('_')) return base.split('_').map(glyphText).join('');
  if (/^[A-Za-z]$/.test(base)) return base;
  if (Object.hasOwn(GLYPHS, base)) return GLYPHS[base]!;
  const uni = /^uni((?:[0-9A-Fa-f]{4})+)$/.exec(base);
  if (uni) return uni[1]!.match(/.{4}/g)!.map((h) => String.fromCharCode(parseInt(h, 16))).join('');
  const u = /^u([0-9A-Fa-f]{4,6})$/.exec(base);
  if (u) return String.fromCodePoint(Math.min(0x10ffff, parseInt(u[1]!, 16)));
  const accented = /^([A-Za-z])(acute|grave|circumflex|dieresis|tilde|ring|cedilla|caron|macron|breve|dotaccent|ogonek|hungarumlaut)$/.exec(base);
  if (accented) return (accented[1]! + ACCENTS[accented[2]!]!).normalize('NFC');
  return '';
}

/**
 * The text of a glyph named by its code (`a65`, `g65`, `cid65`), as bitmap (Type3) fonts made by TeX
 * name them: the code in the printable ASCII range, TeX's ligatures (codes 11-15), else nothing.
 */
function numberedGlyph(name: string): string {
  const m = /^[A-Za-z]{1,3}(\d{2,3})$/.exec(name);
  const code = m ? Number(m[1]) : 0;
  const texLigatures: Record<number, string> = { 11: 'ff', 12: 'fi', 13: 'fl', 14: 'ffi', 15: 'ffl' };
  return code > 32 && code < 127 ? String.fromCharCode(code) : (texLigatures[code] ?? '');
}

const WIN_ANSI_HIGH = '\u20ac\ufffd\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\ufffd\u017d\ufffd\ufffd\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\ufffd\u017e\u0178';
const STANDARD_HIGH: Record<number, string> = {
  0xa1: '\u00a1', 0xa2: '\u00a2', 0xa3: '\u00a3', 0xa4: '\u2044', 0xa5: '\u00a5', 0xa6: '\u0192', 0xa7: '\u00a7', 0xa8: '\u00a4', 0xa9: "'",
  0xaa: '\u201c', 0xab: '\u00ab', 0xac: '\u2039', 0xad: '\u203a', 0xae: 'fi', 0xaf: 'fl', 0xb1: '\u2013', 0xb2: '\u2020', 0xb3: '\u2021',
  0xb4: '\u00b7', 0xb6: '\u00b6', 0xb7: '\u2022', 0xb8: '\u201a', 0xb9: '\u201e', 0xba: '\u201d', 0xbb: '\u00bb', 0xbc: '\u2026', 0xbd: '\u2030',
  0xbf: '\u00bf', 0xc1: '`', 0xc2: '\u00b4', 0xc3: '\u02c6', 0xc4: '\u02dc', 0xc5: '\u00af', 0xc6: '\u02d8', 0xc7: '\u02d9', 0xc8: '\u00a8',
  0xca: '\u02da', 0xcb: '\u00b8', 0xcd: '\u02dd', 0xce: '\u02db', 0xcf: '\u02c7', 0xd0: '\u2014', 0xe1: '\u00c6', 0xe3: '\u00aa', 0xe8: '\u0141',
  0xe9: '\u00d8', 0xea: '\u0152', 0xeb: '\u00ba', 0xf1: '\u00e6', 0xf5: '\u0131', 0xf8: '\u0142', 0xf9: '\u00f8', 0xfa: '\u0153', 0xfb: '\u00df',
};

function baseEncoding(name: string | undefined, code: number): string {
  if (code < 32) return '';
  if (name === 'StandardEncoding') {
    if (code === 0x27) return '\u2019';
    if (code === 0x60) return '\u2018';
    if (code < 127) return String.fromCharCode(code);
    return STANDARD_HIGH[code] ?? '';
  }
  if (code < 127) return String.fromCharCode(code);
  if (code >= 0x80 && code <= 0x9f) return name === 'WinAnsiEncoding' || name === undefined ? WIN_ANSI_HIGH[code - 0x80]!.replace('\ufffd', '') : '';
  return code === 0xa0 ? ' ' : code === 0xad ? '-' : String.fromCharCode(code);
}

/** Unicode text of a UTF-16BE byte string (a ToUnicode destination). */
function utf16be(bytes: Buffer): string {
  let s = '';
  for (let i = 0; i + 1 < bytes.length; i += 2) s += String.fromCharCode((bytes[i]! << 8) | bytes[i + 1]!);
  return s;
}

const LIGATURES: Record<string, string> = { '\ufb00': 'ff', '\ufb01': 'fi', '\ufb02': 'fl', '\ufb03': 'ffi', '\ufb04': 'ffl' };

interface Font {
  /** Split a shown string into codes. */
  codes(bytes: Buffer): number[];
  text(code: number): string;
  /** The glyph's width in thousandths of the font size. */
  width(code: number): number;
  /** Whether code 32 is the space (word spacing applies to it). */
  singleByte: boolean;
}

function parseToUnicode(data: Buffer): { map: Map<number, string>; lengths: number[] } {
  const map = new Map<number, string>();
  const lengths = new Set<number>();
  const lexer = new Lexer(data);
  const pending: Value[] = [];
  let mode: 'none' | 'codespace' | 'bfchar' | 'bfrange' = 'none';
  for (let t = lexer.value(); t !== undefined || lexer.pos < data.length; t = lexer.value()) {
    if (t === undefined) continue;
    if (t instanceof Keyword) {
      const w = t.word;
      if (w === 'begincodespacerange') mode = 'codespace';
      else if (w === 'beginbfchar') mode = 'bfchar';
      else if (w === 'beginbfrange') mode = 'bfrange';
      else if (w.startsWith('end')) mode = 'none';
      pending.length = 0;
      continue;
    }
    if (mode === 'none') continue;
    pending.push(t);
    if (mode === 'codespace' && pending.length === 2) {
      if (Buffer.isBuffer(pending[0])) lengths.add((pending[0] as Buffer).length);
      pending.length = 0;
    } else if (mode === 'bfchar' && pending.length === 2) {
      const [src, dst] = pending as [Value, Value];
      if (Buffer.isBuffer(src) && src.length) map.set(src.readUIntBE(0, Math.min(4, src.length)), Buffer.isBuffer(dst) ? utf16be(dst) : dst instanceof Name ? glyphText(dst.name) : '');
      pending.length = 0;
    } else if (mode === 'bfrange' && pending.length === 3) {
      const [lo, hi, dst] = pending as [Value, Value, Value];
      pending.length = 0;
      if (!Buffer.isBuffer(lo) || !Buffer.isBuffer(hi) || !lo.length || !hi.length) continue;
      const from = lo.readUIntBE(0, Math.min(4, lo.length));
      const to = Math.min(hi.readUIntBE(0, Math.min(4, hi.length)), from + 0xffff);
      if (Array.isArray(dst)) {
        dst.forEach((d, i) => from + i <= to && Buffer.isBuffer(d) && map.set(from + i, utf16be(d)));
      } else if (Buffer.isBuffer(dst) && dst.length >= 2) {
        const prefix = utf16be(dst.subarray(0, dst.length - 2));
        const last = dst.readUInt16BE(dst.length - 2);
        for (let c = from; c <= to; c++) map.set(c, prefix + String.fromCharCode(last + (c - from)));
      }
    }
  }
  return { map, lengths: [...lengths].sort((a, b) => a - b) };
}

function loadFont(doc: PdfDocument, dict: Dict | undefined): Font {
  const subtype = doc.name(dict?.get('Subtype'));
  const toUnicodeStream = doc.resolve(dict?.get('ToUnicode'));
  const toUnicode = isStream(toUnicodeStream) ? doc.streamData(toUnicodeStream) : null;
  const cmap = toUnicode ? parseToUnicode(toUnicode) : undefined;
  if (subtype === 'Type0') {
    const descendant = doc.dict(doc.array(dict?.get('DescendantFonts'))[0]);
    const widths = new Map<number, number>();
    const dw = doc.resolve(descendant?.get('DW'));
    const w = doc.array(descendant?.get('W')).map((v) => doc.resolve(v));
    for (let i = 0; i < w.length; ) {
      const first = w[i];
      const next = w[i + 1];
      if (typeof first === 'number' && Array.isArray(next)) {
        next.forEach((v, k) => typeof doc.resolve(v) === 'number' && widths.set(first + k, doc.resolve(v) as number));
        i += 2;
      } else if (typeof first === 'number' && typeof next === 'number' && typeof w[i + 2] === 'number') {
        for (let c = first; c <= Math.min(next, first + 0xffff); c++) widths.set(c, w[i + 2] as number);
        i += 3;
      } else i++;
    }
    const length = cmap?.lengths.length === 1 ? cmap.lengths[0]! : 2;
    return {
      singleByte: false,
      codes: (bytes) => {
        const out: number[] = [];
        for (let i = 0; i + length <= bytes.length; i += length) out.push(bytes.readUIntBE(i, length));
        return out;
      },
      text: (code) => cmap?.map.get(code) ?? '',
      width: (code) => widths.get(code) ?? (typeof dw === 'number' ? dw : 1000),
    };
  }
  const encoding = doc.resolve(dict?.get('Encoding'));
  const encodingDict = isDict(encoding) ? encoding : undefined;
  const baseName = encoding instanceof Name ? encoding.name : doc.name(encodingDict?.get('BaseEncoding'));
  const differences = new Map<number, string>();
  let code = 0;
  for (const item of doc.array(encodingDict?.get('Differences'))) {
    const v = doc.resolve(item);
    if (typeof v === 'number') code = v;
    else if (v instanceof Name) differences.set(code++, glyphText(v.name) || (subtype === 'Type3' ? numberedGlyph(v.name) : ''));
  }
  const firstChar = doc.resolve(dict?.get('FirstChar'));
  const widths = doc.array(dict?.get('Widths')).map((v) => doc.resolve(v));
  const defaultBase = subtype === 'TrueType' ? 'WinAnsiEncoding' : baseName === undefined && subtype === 'Type1' ? 'StandardEncoding' : baseName;
  return {
    singleByte: true,
    codes: (bytes) => [...bytes],
    text: (c) => cmap?.map.get(c) ?? differences.get(c) ?? baseEncoding(baseName ?? defaultBase, c),
    width: (c) => {
      const v = typeof firstChar === 'number' ? widths[c - firstChar] : undefined;
      return typeof v === 'number' ? v : 500;
    },
  };
}

// --- Content streams -----------------------------------------------------------------------------

type Matrix = [number, number, number, number, number, number];
const IDENTITY: Matrix = [1, 0, 0, 1, 0, 0];
const multiply = (m: Matrix, n: Matrix): Matrix => [
  m[0] * n[0] + m[1] * n[2],
  m[0] * n[1] + m[1] * n[3],
  m[2] * n[0] + m[3] * n[2],
  m[2] * n[1] + m[3] * n[3],
  m[4] * n[0] + m[5] * n[2] + n[4],
  m[4] * n[1] + m[5] * n[3] + n[5],
];

/** Collects a page's text as it is shown: a new line where the baseline moves, a space where a gap opens. */
class TextSink {
  out = '';
  private lastY: number | undefined;
  private lastEndX: number | undefined;
  private lastSize = 10;

  show(text: string, x: number, y: number, endX: number, size: number): void {
    if (!text || this.out.length > MAX_TEXT_CHARS) return;
    const lineHeight = Math.max(1, size, this.lastSize);
    if (this.lastY !== undefined) {
      const dy = Math.abs(y - this.lastY);
      if (dy > 0.5 * lineHeight) this.out += dy > 2.2 * lineHeight ? '\n\n' : '\n';
      else if (this.lastEndX !== undefined && x - this.lastEndX > 0.15 * size && !/\s$/.test(this.out) && !/^\s/.test(text)) this.out += ' ';
    }
    this.out += text;
    this.lastY = y;
    this.lastEndX = endX;
    this.lastSize = size;
  }

  space(): void {
    if (this.out && !/\s$/.test(this.out)) this.out += ' ';
  }
}

interface TextState {
  font: Font | undefined;
  size: number;
  charSpace: number;
  wordSpace: number;
  scale: number;
  leading: number;
  rise: number;
}

function runContent(doc: PdfDocument, content: Buffer, resources: Dict | undefined, sink: TextSink, ctm0: Matrix, depth: number, fonts: Map<Dict, Font>): void {
  const lexer = new Lexer(content);
  const operands: Value[] = [];
  const stack: { ctm: Matrix; state: TextState }[] = [];
  let ctm = ctm0;
  let state: TextState = { font: undefined, size: 10, charSpace: 0, wordSpace: 0, scale: 1, leading: 0, rise: 0 };
  let tm: Matrix = IDENTITY;
  let tlm: Matrix = IDENTITY;
  const fontOf = (name: string): Font | undefined => {
    const dict = doc.dict(doc.dict(resources?.get('Font'))?.get(name));
    if (!dict) return undefined;
    if (!fonts.has(dict)) fonts.set(dict, loadFont(doc, dict));
    return fonts.get(dict);
  };
  const nums = () => operands.map((o) => (typeof o === 'number' ? o : 0));
  const moveLine = (tx: number, ty: number) => {
    tlm = multiply([1, 0, 0, 1, tx, ty], tlm);
    tm = tlm;
  };
  const showString = (bytes: Buffer) => {
    const font = state.font;
    if (!font) return;
    const start = multiply(tm, ctm);
    let text = '';
    for (const code of font.codes(bytes)) {
      const t = font.text(code);
      text += LIGATURES[t] ?? t;
      const advance = ((font.width(code) / 1000) * state.size + state.charSpace + (font.singleByte && code === 32 ? state.wordSpace : 0)) * state.scale;
      tm = multiply([1, 0, 0, 1, advance, 0], tm);
    }
    const end = multiply(tm, ctm);
    const size = Math.abs(state.size * Math.hypot(start[2], start[3])) || state.size;
    sink.show(text.replace(/[\u0000-\u0008\u000b-\u001f]/g, ''), start[4], start[5] + state.rise, end[4], size);
  };
  for (;;) {
    const token = lexer.token();
    if (token === undefined) break;
    if (!(token instanceof Keyword)) {
      const value = lexer.value(token);
      if (value !== undefined) operands.push(value);
      continue;
    }
    const op = token.word;
    switch (op) {
      case 'q':
        stack.push({ ctm, state: { ...state } });
        break;
      case 'Q': {
        const saved = stack.pop();
        if (saved) ({ ctm, state } = saved);
        break;
      }
      case 'cm':
        if (operands.length === 6) ctm = multiply(nums() as Matrix, ctm);
        break;
      case 'BT':
        tm = tlm = IDENTITY;
        break;
      case 'Tf': {
        const name = operands[0];
        if (name instanceof Name) state.font = fontOf(name.name);
        if (typeof operands[1] === 'number') state.size = operands[1];
        break;
      }
      case 'Tc':
        state.charSpace = nums()[0] ?? 0;
        break;
      case 'Tw':
        state.wordSpace = nums()[0] ?? 0;
        break;
      case 'Tz':
        state.scale = (nums()[0] ?? 100) / 100;
        break;
      case 'TL':
        state.leading = nums()[0] ?? 0;
        break;
      case 'Ts':
        state.rise = nums()[0] ?? 0;
        break;
      case 'Td':
        moveLine(nums()[0] ?? 0, nums()[1] ?? 0);
        break;
      case 'TD':
        state.leading = -(nums()[1] ?? 0);
        moveLine(nums()[0] ?? 0, nums()[1] ?? 0);
        break;
      case 'Tm':
        if (operands.length === 6) tm = tlm = nums() as Matrix;
        break;
      case 'T*':
        moveLine(0, -state.leading);
        break;
      case 'Tj':
        if (Buffer.isBuffer(operands[0])) showString(operands[0]);
        break;
      case "'":
        moveLine(0, -state.leading);
        if (Buffer.isBuffer(operands[0])) showString(operands[0]);
        break;
      case '"':
        state.wordSpace = typeof operands[0] === 'number' ? operands[0] : state.wordSpace;
        state.charSpace = typeof operands[1] === 'number' ? operands[1] : state.charSpace;
        moveLine(0, -state.leading);
        if (Buffer.isBuffer(operands[2])) showString(operands[2]);
        break;
      case 'TJ':
        for (const item of Array.isArray(operands[0]) ? operands[0] : []) {
          if (Buffer.isBuffer(item)) showString(item);
          else if (typeof item === 'number') {
            tm = multiply([1, 0, 0, 1, (-item / 1000) * state.size * state.scale, 0], tm);
            if (item < -250) sink.space();
          }
        }
        break;
      case 'Do': {
        const name = operands[0];
        const xobject = name instanceof Name ? doc.resolve(doc.dict(resources?.get('XObject'))?.get(name.name)) : undefined;
        if (isStream(xobject) && doc.name(xobject.dict.get('Subtype')) === 'Form' && depth < MAX_FORM_DEPTH) {
          const data = doc.streamData(xobject);
          const matrix = doc.array(xobject.dict.get('Matrix')).map((v) => doc.resolve(v));
          const m = matrix.length === 6 && matrix.every((v) => typeof v === 'number') ? (matrix as Matrix) : IDENTITY;
          if (data) runContent(doc, data, doc.dict(xobject.dict.get('Resources')) ?? resources, sink, multiply(m, ctm), depth + 1, fonts);
        }
        break;
      }
      case 'BI': {
        // An inline image: skip its data, which is binary, to the EI that stands alone.
        const id = content.indexOf('ID', lexer.pos);
        let at = id < 0 ? content.length : id + 2;
        for (;;) {
          const ei = content.indexOf('EI', at);
          const before = content[ei - 1];
          const after = content[ei + 2];
          if (ei < 0 || ((before === undefined || WHITESPACE.has(before)) && (after === undefined || WHITESPACE.has(after)))) {
            lexer.pos = ei < 0 ? content.length : ei + 2;
            break;
          }
          at = ei + 2;
        }
        break;
      }
      default:
        break;
    }
    operands.length = 0;
  }
}

/** Is this a PDF (its header within the first kilobyte)? */
export function isPdf(data: Buffer): boolean {
  return data.subarray(0, 1024).includes('%PDF-');
}

/** The text of each page of a PDF; encrypted files and pages without text give empty pages. */
export function pdfText(data: Buffer): PdfPages {
  const doc = new PdfDocument(data);
  const fonts = new Map<Dict, Font>();
  const pages = doc.pages().map(({ page, resources }) => {
    const sink = new TextSink();
    try {
      runContent(doc, doc.contents(page), resources, sink, IDENTITY, 0, fonts);
    } catch {
      // what was read of a broken page is kept
    }
    return sink.out.replace(/[ \t]+\n/g, '\n').replace(/\n{3,}/g, '\n\n').trim();
  });
  return { pages };
}

/** Whether the PDF is encrypted (its text cannot be read without the key). */
export function isEncryptedPdf(data: Buffer): boolean {
  return /\/Encrypt\s/.test(data.subarray(Math.max(0, data.length - 4096)).toString('latin1')) || /trailer[\s\S]{0,400}\/Encrypt\b/.test(data.toString('latin1', 0, Math.min(data.length, 1 << 20)));
}
