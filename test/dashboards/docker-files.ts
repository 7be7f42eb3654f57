/**
 * Reading docker/Dockerfile and .dockerignore the way Docker does, for the checks that can run
 * without a Docker engine (there is none here): instructions with their line continuations, the
 * stages, and whether a path of the repository is in the build context.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Instruction {
  keyword: string;
  args: string;
}

export interface Stage {
  base: string;
  name?: string;
  instructions: Instruction[];
}

export interface Copy {
  from?: string;
  sources: string[];
  destination: string;
}

export function parseDockerfile(text: string): Stage[] {
  const logical = text
    .split('\n')
    .filter((line) => !/^\s*#/.test(line))
    .join('\n')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  const stages: Stage[] = [];
  for (const line of logical) {
    const [, keyword, args] = /^(\S+)\s*(.*)$/.exec(line)!;
    const upper = keyword.toUpperCase();
    if (upper === 'FROM') {
      const [, base, name] = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args)!;
      stages.push({ base, name, instructions: [] });
    } else if (upper !== 'ARG' || stages.length > 0) {
      stages.at(-1)?.instructions.push({ keyword: upper, args });
    }
  }
  return stages;
}

/** A stage's COPY instructions (shell form, which is all docker/Dockerfile uses). */
export function copies(stage: Stage): Copy[] {
  return stage.instructions.filter((i) => i.keyword === 'COPY').map((i) => {
    const words = i.args.split(/\s+/);
    const flags = words.filter((w) => w.startsWith('--'));
    const paths = words.filter((w) => !w.startsWith('--'));
    const from = flags.find((f) => f.startsWith('--from='))?.slice('--from='.length);
    return { from, sources: paths.slice(0, -1), destination: paths.at(-1)! };
  });
}

/** The JSON (exec) form of CMD or HEALTHCHECK ... CMD, as an argument list. */
export function execForm(args: string): string[] {
  const json = args.slice(args.indexOf('['));
  return JSON.parse(json) as string[];
}

function patternRegex(pattern: string): RegExp {
  const body = pattern
    .split('/')
    .map((part) => (part === '**' ? '.*' : part.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')))
    .join('/')
    .replace(/\.\*\//g, '(?:.*/)?');
  return new RegExp(`^${body}$`);
}

/**
 * Whether .dockerignore keeps `path` (relative, with /) out of the build context. As Docker's
 * pattern matcher: a pattern matches a path or any of its parent folders; the last match wins;
 * "!" brings a path back.
 */
export function dockerIgnores(dockerignore: string, path: string): boolean {
  const patterns = dockerignore
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => ({ exclude: !line.startsWith('!'), regex: patternRegex(line.replace(/^!/, '').replace(/\/+$/, '')) }));
  const parts = path.split('/');
  const candidates = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
  let ignored = false;
  for (const { exclude, regex } of patterns) {
    if (candidates.some((candidate) => regex.test(candidate))) ignored = exclude;
  }
  return ignored;
}

export function readRepoFile(repo: string, path: string): string {
  return readFileSync(join(repo, path), 'utf8');
}
