import { strategyConformance } from './strategy-conformance.test-suite.js';

strategyConformance({ name: 'round-robin', create: () => 'round-robin', minShare: 0.3 });
strategyConformance({ name: 'weighted-round-robin', create: () => 'weighted-round-robin', minShare: 0.3 });
strategyConformance({ name: 'priority (one tier)', create: () => 'priority', minShare: 0.3 });
strategyConformance({ name: 'least-latency', create: () => 'least-latency', minShare: 0.1 });
strategyConformance({ name: 'least-busy', create: () => 'least-busy' });
strategyConformance({ name: 'p2c-peak-ewma', create: () => 'p2c-peak-ewma', minShare: 0.1 });
strategyConformance({
  name: 'cost (equal prices)',
  create: () => 'cost',
  deployment: { price: { inputPerMTok: 1, outputPerMTok: 2 } },
  minShare: 0.3,
});
