export { agentRun } from './agentRun.js';
export { benchmark } from './benchmark.js';
export { rescore } from './rescore.js';
