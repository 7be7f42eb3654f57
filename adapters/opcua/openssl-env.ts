/**
 * node-opcua-crypto 5.9 reads private keys with OPENSSL_CONF set to /dev/null and then puts the
 * old value back by assignment: an unset variable comes back as the text "undefined", and every
 * openssl started by this process afterwards fails ("Can't open undefined"). The value this
 * process started with is put back after each step that may read a key.
 */
const original = process.env.OPENSSL_CONF;

export function restoreOpensslConf(): void {
  if (process.env.OPENSSL_CONF === original) return;
  if (original === undefined) delete process.env.OPENSSL_CONF;
  else process.env.OPENSSL_CONF = original;
}
