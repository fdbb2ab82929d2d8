import { describeFixtureTasks } from '../helpers/fixtureTasks.js';

describeFixtureTasks((id) => id.startsWith('rl'));
