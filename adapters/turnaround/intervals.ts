/** The turnaround intervals, by their field names in InfluxDB (docs/metrics.md), and the moments they span. */

export type Moment = 'ordered' | 'collected' | 'analysed' | 'received' | 'sent' | 'accepted';

export const SPANS = {
  ordered_to_accepted_s: ['ordered', 'accepted'],
  collected_to_accepted_s: ['collected', 'accepted'],
  collected_to_analysed_s: ['collected', 'analysed'],
  analysed_to_received_s: ['analysed', 'received'],
  analysed_to_accepted_s: ['analysed', 'accepted'],
  received_to_sent_s: ['received', 'sent'],
  sent_to_accepted_s: ['sent', 'accepted'],
  received_to_accepted_s: ['received', 'accepted'],
} as const satisfies Record<string, readonly [Moment, Moment]>;

export type IntervalName = keyof typeof SPANS;
export const INTERVALS = Object.keys(SPANS) as IntervalName[];
