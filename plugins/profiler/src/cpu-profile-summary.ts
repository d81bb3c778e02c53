/** The `.cpuprofile` format (Chrome DevTools / V8 `Profiler.Profile`), as far as it is read here. */
export interface CpuProfileData {
  nodes: CpuProfileNode[];
  /** µs */
  startTime: number;
  /** µs */
  endTime: number;
  /** Node id of each sample. */
  samples?: number[];
  /** µs since the previous sample (the first: since `startTime`). */
  timeDeltas?: number[];
}

export interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; scriptId?: string; url: string; lineNumber: number; columnNumber: number };
  hitCount?: number;
  children?: number[];
}

export interface FunctionTime {
  /** `(anonymous)` for unnamed functions; `(garbage collector)`, `(program)`, `(idle)` are V8's own. */
  functionName: string;
  url: string;
  /** 1-based, as editors show it; 0 when unknown. */
  lineNumber: number;
  columnNumber: number;
  /** Time spent in the function itself. */
  selfMs: number;
  selfPercent: number;
  /** Time spent in it and in what it called (recursion counted once). */
  totalMs: number;
  totalPercent: number;
}

interface Fn {
  frame: CpuProfileNode['callFrame'];
  selfUs: number;
  totalUs: number;
}

/**
 * The functions that took the most self time, from the samples of a profile. A sample lasts until
 * the next one (the last until `endTime`), as DevTools counts it.
 */
export function topFunctions(profile: CpuProfileData, limit = 10): FunctionTime[] {
  const nodes = new Map<number, CpuProfileNode>();
  for (const n of profile.nodes) nodes.set(n.id, n);
  const selfUs = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  let t = profile.startTime;
  const times = new Float64Array(samples.length);
  for (let i = 0; i < samples.length; i++) {
    t += deltas[i] ?? 0;
    times[i] = t;
  }
  for (let i = 0; i < samples.length; i++) {
    const until = i + 1 < samples.length ? times[i + 1]! : profile.endTime;
    const id = samples[i]!;
    selfUs.set(id, (selfUs.get(id) ?? 0) + Math.max(0, until - times[i]!));
  }

  // The root is the node no other node lists as a child.
  const isChild = new Set<number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) isChild.add(c);
  const root = profile.nodes.find((n) => !isChild.has(n.id));
  const fns = new Map<string, Fn>();
  if (root) accumulate(root, nodes, selfUs, fns);

  const durationUs = Math.max(1, profile.endTime - profile.startTime);
  return [...fns.values()]
    .filter((f) => f.frame.functionName !== '(root)' && f.selfUs > 0)
    .sort((a, b) => b.selfUs - a.selfUs)
    .slice(0, limit)
    .map((f) => ({
      functionName: f.frame.functionName || '(anonymous)',
      url: f.frame.url,
      lineNumber: f.frame.lineNumber >= 0 ? f.frame.lineNumber + 1 : 0,
      columnNumber: f.frame.columnNumber >= 0 ? f.frame.columnNumber + 1 : 0,
      selfMs: f.selfUs / 1000,
      selfPercent: (f.selfUs / durationUs) * 100,
      totalMs: f.totalUs / 1000,
      totalPercent: (f.totalUs / durationUs) * 100,
    }));
}

const keyOf = (f: CpuProfileNode['callFrame']) =>
  `${f.functionName}\u0000${f.url}\u0000${f.lineNumber}\u0000${f.columnNumber}`;

/**
 * Walks the call tree without recursion (profiles can be deep): self time per function, and the
 * total time of each node added to its function unless the function is already on the path above.
 */
function accumulate(
  root: CpuProfileNode,
  nodes: Map<number, CpuProfileNode>,
  selfUs: Map<number, number>,
  fns: Map<string, Fn>,
): void {
  const totalUs = new Map<number, number>();
  const onPath = new Map<string, number>();
  const stack: { node: CpuProfileNode; key: string; exit: boolean }[] = [
    { node: root, key: keyOf(root.callFrame), exit: false },
  ];
  while (stack.length > 0) {
    const item = stack.pop()!;
    const { node, key } = item;
    if (!item.exit) {
      onPath.set(key, (onPath.get(key) ?? 0) + 1);
      stack.push({ node, key, exit: true });
      for (const c of node.children ?? []) {
        const child = nodes.get(c);
        if (child) stack.push({ node: child, key: keyOf(child.callFrame), exit: false });
      }
      continue;
    }
    const self = selfUs.get(node.id) ?? 0;
    let total = self;
    for (const c of node.children ?? []) total += totalUs.get(c) ?? 0;
    totalUs.set(node.id, total);
    const depth = onPath.get(key)! - 1;
    if (depth === 0) onPath.delete(key);
    else onPath.set(key, depth);
    let fn = fns.get(key);
    if (!fn) {
      fn = { frame: node.callFrame, selfUs: 0, totalUs: 0 };
      fns.set(key, fn);
    }
    fn.selfUs += self;
    // Recursion: only the outermost frame of a function counts toward its total.
    if (depth === 0) fn.totalUs += total;
  }
}
