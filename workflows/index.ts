export { agentRun } from './agentRun.js';
