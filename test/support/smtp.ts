/**
 * A real SMTP submission server for the tests: Debian's python3-aiosmtpd on loopback, STARTTLS
 * required, with a test certificate, optionally AUTH (PLAIN/LOGIN, only after STARTTLS). Each
 * message it takes is written to `dir` as NNNN.eml (the bytes received) and NNNN.json (envelope,
 * TLS), and announced on stdout, so a test awaits messages instead of sleeping. Modes: 'accept',
 * 'reject' (550 5.1.1 at RCPT), 'tempfail' (451 4.3.0 at RCPT).
 * Python's own `email` package (Debian's /usr/bin/python3) parses what came in: a mail parser
 * no one here wrote.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EventEmitter } from 'node:events';
import { DEBIAN_PYTHON } from './shared';

export type SmtpMode = 'accept' | 'reject' | 'tempfail';

const SERVER = String.raw`
import asyncio, json, os, ssl, sys, threading
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

port, certfile, keyfile, outdir, mode = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
user = sys.argv[6] if len(sys.argv) > 6 else None
password = sys.argv[7] if len(sys.argv) > 7 else None
count = [0]

class Handler:
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if mode == 'reject':
            return '550 5.1.1 <%s>: Recipient address rejected: User unknown' % address
        if mode == 'tempfail':
            return '451 4.3.0 Temporary failure, try again later'
        envelope.rcpt_tos.append(address)
        return '250 OK'
    async def handle_DATA(self, server, session, envelope):
        count[0] += 1
        base = os.path.join(outdir, '%04d' % count[0])
        with open(base + '.eml', 'wb') as f:
            f.write(envelope.original_content)
        with open(base + '.json', 'w') as f:
            json.dump({'from': envelope.mail_from, 'to': envelope.rcpt_tos, 'tls': session.ssl is not None, 'user': getattr(session, 'login_data', None) and str(session.login_data)}, f)
        print('RECEIVED ' + base + '.eml', flush=True)
        return '250 2.0.0 Ok: queued as %d' % count[0]

def authenticator(server, session, envelope, mechanism, auth_data):
    ok = user is not None and auth_data.login == user.encode() and auth_data.password == password.encode()
    return AuthResult(success=ok, handled=False)

context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
context.load_cert_chain(certfile, keyfile)
kwargs = dict(hostname='127.0.0.1', port=port, tls_context=context, require_starttls=True)
if user is not None:
    kwargs.update(authenticator=authenticator, auth_required=True, auth_require_tls=True)
controller = Controller(Handler(), **kwargs)
controller.start()
print('READY %d' % port, flush=True)
try:
    sys.stdin.read()
finally:
    controller.stop()
`;

export interface SmtpServerOptions {
  port: number;
  dir: string;
  certFile: string;
  keyFile: string;
  mode?: SmtpMode;
  auth?: { user: string; pass: string };
}

export class SmtpServer extends EventEmitter {
  private constructor(private readonly child: ChildProcess, readonly port: number, readonly dir: string) {
    super();
  }

  static start(options: SmtpServerOptions): Promise<SmtpServer> {
    const args = ['-c', SERVER, String(options.port), options.certFile, options.keyFile, options.dir, options.mode ?? 'accept'];
    if (options.auth) args.push(options.auth.user, options.auth.pass);
    const child = spawn(DEBIAN_PYTHON, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const server = new SmtpServer(child, options.port, options.dir);
    let stderr = '';
    child.stderr!.on('data', (c: Buffer) => { stderr += c.toString(); });
    return new Promise((resolve, reject) => {
      let buffered = '';
      child.once('exit', (code) => reject(new Error(`aiosmtpd exited with ${code}: ${stderr.slice(-500)}`)));
      child.stdout!.on('data', (chunk: Buffer) => {
        buffered += chunk.toString();
        let nl: number;
        while ((nl = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, nl);
          buffered = buffered.slice(nl + 1);
          if (line.startsWith('READY')) resolve(server);
          else if (line.startsWith('RECEIVED ')) server.emit('message', line.slice('RECEIVED '.length));
        }
      });
    });
  }

  /** The .eml files received so far, in order. */
  messages(): string[] {
    return readdirSync(this.dir).filter((f) => f.endsWith('.eml')).sort().map((f) => join(this.dir, f));
  }

  envelope(eml: string): { from: string; to: string[]; tls: boolean } {
    return JSON.parse(readFileSync(eml.replace(/\.eml$/, '.json'), 'utf8')) as { from: string; to: string[]; tls: boolean };
  }

  /** Resolves with the path of the next message received. */
  nextMessage(): Promise<string> {
    return new Promise((resolve) => this.once('message', resolve));
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      if (this.child.exitCode !== null) return resolve();
      this.child.once('exit', () => resolve());
      this.child.stdin!.end();
    });
  }
}

export interface ParsedMail {
  headers: Record<string, string>;
  text: string;
  attachments: Array<{ filename: string; contentType: string; charset: string | null; bytes: Buffer }>;
}

const PARSE = String.raw`
import base64, email, email.policy, json, sys
m = email.message_from_binary_file(open(sys.argv[1], 'rb'), policy=email.policy.default)
out = {'headers': {k: str(v) for k, v in m.items()}, 'text': '', 'attachments': []}
body = m.get_body(preferencelist=('plain',))
if body is not None:
    out['text'] = body.get_content()
for part in m.iter_attachments():
    out['attachments'].append({'filename': part.get_filename(), 'contentType': part.get_content_type(), 'charset': part.get_param('charset'), 'base64': base64.b64encode(part.get_payload(decode=True)).decode('ascii')})
print(json.dumps(out, ensure_ascii=False))
`;

/** Parses a received message with Python's `email` package. */
export function parseMail(eml: string): ParsedMail {
  const out = JSON.parse(execFileSync(DEBIAN_PYTHON, ['-c', PARSE, eml], { encoding: 'utf8' })) as {
    headers: Record<string, string>; text: string; attachments: Array<{ filename: string; contentType: string; charset: string | null; base64: string }>;
  };
  return { headers: out.headers, text: out.text, attachments: out.attachments.map((a) => ({ filename: a.filename, contentType: a.contentType, charset: a.charset, bytes: Buffer.from(a.base64, 'base64') })) };
}
