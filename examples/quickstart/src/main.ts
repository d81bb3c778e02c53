import { runDemo } from './demo.js';

const result = await runDemo();
process.exitCode = result.errors === 0 ? 0 : 1;
