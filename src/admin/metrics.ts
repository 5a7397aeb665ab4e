/**
 * A small Prometheus registry: counters, gauges and histograms with labels, rendered in the
 * text exposition format. Enough for Frontdesk's own figures; Envoy's stats stay in Envoy.
 */

type Labels = Record<string, string>;

function key(labels: Labels): string {
  return Object.keys(labels).sort().map((k) => `${k}="${labels[k]!.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`).join(',');
}

abstract class Metric {
  constructor(readonly name: string, readonly help: string, readonly type: string) {}
  abstract lines(): string[];
  render(): string {
    return [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} ${this.type}`, ...this.lines()].join('\n');
  }
}

export class Counter extends Metric {
  private readonly values = new Map<string, number>();
  /** `zeroWhenEmpty`: one unlabelled 0 sample until the first inc (false for series that only make sense labelled). */
  constructor(name: string, help: string, private readonly zeroWhenEmpty = true) { super(name, help, 'counter'); }
  inc(labels: Labels = {}, by = 1): void {
    const k = key(labels);
    this.values.set(k, (this.values.get(k) ?? 0) + by);
  }
  get(labels: Labels = {}): number { return this.values.get(key(labels)) ?? 0; }
  lines(): string[] {
    if (this.values.size === 0) return this.zeroWhenEmpty ? [`${this.name} 0`] : [];
    return [...this.values].sort().map(([k, v]) => `${this.name}${k ? `{${k}}` : ''} ${v}`);
  }
}

export class Gauge extends Metric {
  private readonly values = new Map<string, number>();
  /** `collect`: the value read at each scrape, or labelled values (none: no sample). */
  constructor(name: string, help: string, private readonly collect?: () => number | [Labels, number][]) { super(name, help, 'gauge'); }
  set(value: number, labels: Labels = {}): void { this.values.set(key(labels), value); }
  lines(): string[] {
    if (this.collect) {
      const v = this.collect();
      if (typeof v === 'number') return [`${this.name} ${v}`];
      return v.map(([labels, n]) => [key(labels), n] as const).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, n]) => `${this.name}${k ? `{${k}}` : ''} ${n}`);
    }
    if (this.values.size === 0) return [`${this.name} 0`];
    return [...this.values].sort().map(([k, v]) => `${this.name}${k ? `{${k}}` : ''} ${v}`);
  }
}

export class Histogram extends Metric {
  private readonly series = new Map<string, { counts: number[]; sum: number; count: number }>();
  constructor(name: string, help: string, readonly buckets: number[]) { super(name, help, 'histogram'); }
  observe(value: number, labels: Labels = {}): void {
    const k = key(labels);
    let s = this.series.get(k);
    if (!s) this.series.set(k, (s = { counts: this.buckets.map(() => 0), sum: 0, count: 0 }));
    this.buckets.forEach((b, i) => { if (value <= b) s!.counts[i]!++; });
    s.sum += value;
    s.count++;
  }
  /** observe() for each of `values`, under one set of labels (one label key for all). */
  observeMany(values: readonly number[], labels: Labels = {}): void {
    const k = key(labels);
    let s = this.series.get(k);
    if (!s) this.series.set(k, (s = { counts: this.buckets.map(() => 0), sum: 0, count: 0 }));
    for (const value of values) {
      for (let i = 0; i < this.buckets.length; i++) if (value <= this.buckets[i]!) s.counts[i]!++;
      s.sum += value;
      s.count++;
    }
  }
  lines(): string[] {
    const out: string[] = [];
    for (const [k, s] of [...this.series].sort()) {
      const sep = k ? `${k},` : '';
      this.buckets.forEach((b, i) => out.push(`${this.name}_bucket{${sep}le="${b}"} ${s.counts[i]}`));
      out.push(`${this.name}_bucket{${sep}le="+Inf"} ${s.count}`);
      out.push(`${this.name}_sum${k ? `{${k}}` : ''} ${s.sum}`);
      out.push(`${this.name}_count${k ? `{${k}}` : ''} ${s.count}`);
    }
    return out;
  }
}

export class Registry {
  private readonly metrics: Metric[] = [];
  add<M extends Metric>(m: M): M { this.metrics.push(m); return m; }
  render(): string { return `${this.metrics.map((m) => m.render()).join('\n')}\n`; }
}
