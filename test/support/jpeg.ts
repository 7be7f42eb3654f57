/**
 * Real JPEG files made by libjpeg-turbo's cjpeg (Debian's libjpeg-turbo-progs) from a picture
 * drawn here (a PPM or PGM colour gradient): baseline as cameras write it, progressive, greyscale.
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
