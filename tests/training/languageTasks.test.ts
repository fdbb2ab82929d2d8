import { describeFixtureTasks } from '../helpers/fixtureTasks.js';

describeFixtureTasks((id) => id === 'naturalLanguageInferenceMNLI' || id === 'languageModelingFineWeb');
