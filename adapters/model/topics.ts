/**
 * The bus namespace: passerelle/v1/<site>/<kind>/<source>/<event>.
 * Documented in docs/topics.md; v1 changes only with the canonical model's major version.
 */

export const TOPIC_ROOT = 'passerelle/v1';

export type TopicKind = 'biology' | 'imaging' | 'vitals' | 'hl7' | 'hub';
export type TopicEvent = 'result' | 'status' | 'error' | 'delivery' | 'message' | 'alert';

export interface TopicParts {
  site: string;
  kind: TopicKind | string;
  source: string;
  event: TopicEvent | string;
}

/** Makes one level safe: MQTT wildcards and separators become '_'. */
export function topicLevel(value: string): string {
  const cleaned = value.replace(/[/+#\s\u0000]/g, '_');
  return cleaned.length > 0 ? cleaned : '_';
}

export function topicFor(parts: TopicParts): string {
  return [TOPIC_ROOT, parts.site, parts.kind, parts.source, parts.event].map((p, i) => (i === 0 ? p : topicLevel(p))).join('/');
}

/** Subscription filter for every result of a site ('+' for all sites). */
export function resultFilter(site = '+'): string {
  return `${TOPIC_ROOT}/${site === '+' ? '+' : topicLevel(site)}/+/+/result`;
}

export function parseTopic(topic: string): TopicParts | undefined {
  const levels = topic.split('/');
  if (levels.length !== 6 || `${levels[0]}/${levels[1]}` !== TOPIC_ROOT) return undefined;
  const [, , site, kind, source, event] = levels;
  return { site, kind, source, event };
}
