import { runCli } from './program.js';

process.exit(await runCli(process.argv.slice(2)));
