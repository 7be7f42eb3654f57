/**
 * Errors of the record layer. Their messages name records and fields by position, never their
 * contents: they end up in logs, and contents are patient data.
 */
export class AstmParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AstmParseError';
  }
}
