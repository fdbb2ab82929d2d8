export { agentRun } from './agentRun.js';
export { benchmark } from './benchmark.js';
