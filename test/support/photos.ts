/**
 * What carts send, for tests: real JPEG files made by libjpeg-turbo's cjpeg (Debian's
 * libjpeg-turbo-progs) from a picture drawn here (a PPM colour gradient) — baseline as cameras
 * write it, progressive, greyscale — and a small PDF.
 */
import { spawnSync } from 'node:child_process';

export interface JpegOptions {
  width?: number;
  height?: number;
  /** cjpeg options, e.g. ['-progressive'], ['-sample', '1x1'], ['-grayscale']. */
  extra?: string[];
  quality?: number;
}

/** A width × height picture as binary PPM (P6): gradients plus a disc, so the JPEG has real content. */
export function picture(width: number, height: number): Buffer {
  const head = Buffer.from(`P6\n${width} ${height}\n255\n`, 'latin1');
  const pixels = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      const inDisc = (x - width / 2) ** 2 + (y - height / 2) ** 2 < (Math.min(width, height) / 4) ** 2;
      pixels[i] = inDisc ? 200 : Math.round((255 * x) / width);
      pixels[i + 1] = inDisc ? 40 : Math.round((255 * y) / height);
      pixels[i + 2] = inDisc ? 60 : 128;
    }
  }
  return Buffer.concat([head, pixels]);
}

/** A JPEG made by cjpeg (baseline, 4:2:2 by default: what the DICOM photometric YBR_FULL_422 names). */
export function makeJpeg(options: JpegOptions = {}): Buffer {
  const { width = 64, height = 48, extra = ['-sample', '2x1'], quality = 85 } = options;
  const run = spawnSync('cjpeg', ['-quality', String(quality), ...extra], { input: picture(width, height) });
  if (run.status !== 0) throw new Error(`cjpeg failed (is libjpeg-turbo-progs installed?): ${run.stderr?.toString() ?? run.error?.message}`);
  return run.stdout;
}

/** A small PDF, whole: header, one empty page, trailer, %%EOF. */
export function tinyPdf(): Buffer {
  return Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n'
    + '3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n', 'latin1');
}
