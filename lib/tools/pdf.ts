import { getDocument } from 'pdfjs-dist/legacy/build/pdf.mjs';

export interface PdfPages {
  pages: string[];
}

/** Is this a PDF (its header within the first kilobyte)? */
export function isPdf(data: Buffer): boolean {
  return data.subarray(0, 1024).includes('%PDF-');
}

export class EncryptedPdfError extends Error {}

/**
 * The text of each page, read with Mozilla's pdf.js (fonts, encodings, object streams and broken files
 * are its business). Pages without text are empty; an encrypted PDF throws EncryptedPdfError.
 */
export async function pdfText(data: Buffer): Promise<PdfPages> {
  // pdf.js takes ownership of the bytes it is given: hand it a copy.
  const task = getDocument({ data: new Uint8Array(data), isEvalSupported: false, useSystemFonts: false, verbosity: 0 });
  try {
    const doc = await task.promise;
    const pages: string[] = [];
    for (let n = 1; n <= doc.numPages; n++) {
      const content = await (await doc.getPage(n)).getTextContent();
      const runs = content.items.flatMap((item) => ('str' in item ? [{ text: item.str, eol: item.hasEOL, x: item.transform[4] as number, y: item.transform[5] as number, width: item.width, size: Math.abs(item.transform[3] as number) || item.height }] : []));
      pages.push(layout(runs));
    }
    return { pages };
  } catch (err) {
    // pdf.js does not export its PasswordException class; its name is part of its API.
    if ((err as Error).name === 'PasswordException') throw new EncryptedPdfError('the PDF is encrypted');
    throw err;
  } finally {
    await task.destroy();
  }
}

interface TextRun {
  text: string;
  eol: boolean;
  x: number;
  y: number;
  width: number;
  size: number;
}

/**
 * Plain text from positioned runs: a new line where the baseline moves, a blank line where it moves by
 * more than two line heights, a space where a horizontal gap separates two runs of one line.
 */
function layout(runs: TextRun[]): string {
  let out = '';
  let prev: TextRun | undefined;
  for (const run of runs) {
    if (prev && !prev.eol) {
      const size = Math.max(prev.size, run.size, 1);
      const drop = Math.abs(run.y - prev.y);
      if (drop > size * 2.2) out += '\n\n';
      else if (drop > size * 0.5) out += '\n';
      else if (run.x - (prev.x + prev.width) > size * 0.15 && !/\s$/.test(out) && !/^\s/.test(run.text)) out += ' ';
    }
    out += run.text + (run.eol ? '\n' : '');
    prev = run;
  }
  return out.replace(/[ \t]+\n/g, '\n').replace(/\n{3,}/g, '\n\n').trim();
}
