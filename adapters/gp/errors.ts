/**
 * Errors of the GP formats. Their messages name records, lines, fields and positions, never
 * field contents: they end up in logs, and field contents are patient data.
 */

/** A report cannot be written in a format (no patient, a number that is not finite, ...). */
export class GpFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GpFormatError';
  }
}

/** Bytes that claim to be a GP-format file cannot be read (missing marker, bad header, ...). */
export class GpReadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GpReadError';
  }
}

/** A GP directory that cannot be loaded: every problem is listed. */
export class GpDirectoryError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid GP directory: ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? ` (+${problems.length - 5} more)` : ''}`);
    this.name = 'GpDirectoryError';
  }
}
