import type { Attributes } from '@opentelemetry/api';
import type { ResourceMetrics } from '@opentelemetry/sdk-metrics';

export interface Point {
  attributes: Attributes;
  value: unknown;
}

/** The data points of metric `name` across scopes, with its unit; an empty list when absent. */
export function metricPoints(rm: ResourceMetrics, name: string): { unit: string | undefined; points: Point[] } {
  let unit: string | undefined;
  const points: Point[] = [];
  for (const scope of rm.scopeMetrics) {
    for (const m of scope.metrics) {
      if (m.descriptor.name !== name) continue;
      unit = m.descriptor.unit;
      for (const p of m.dataPoints as Point[]) points.push(p);
    }
  }
  return { unit, points };
}

/** The single value of metric `name` with `attributes` (a subset match); undefined when absent. */
export function metricValue(rm: ResourceMetrics, name: string, attributes: Attributes = {}): unknown {
  const match = metricPoints(rm, name).points.find((p) =>
    Object.entries(attributes).every(([k, v]) => p.attributes[k] === v),
  );
  return match?.value;
}
