/** The `knee-tumor` command: one entry point, one subcommand per job. */
import { analyzeCommand, ANALYZE_USAGE } from './analyze';
import { backupCommand, BACKUP_USAGE } from './backup';
import { convertCommand, CONVERT_USAGE } from './convert';
import { evaluateCommand } from './evaluate';
import { phantomsCommand } from './phantoms';
import { trainingSetCommand, TRAINING_SET_USAGE } from './training-set';
import { EXIT, ownLines, printErr, printOut } from './output';

const USAGE = `usage:
  ${ANALYZE_USAGE}
  ${CONVERT_USAGE}
  knee-tumor evaluate --truth <truth.json> --pred <predictions.json> --out <dir> [--readers <reader.json> ...]
  knee-tumor phantoms --out <dir> [--seed N] [--patients N] [--size WxH]
  ${TRAINING_SET_USAGE}
  ${BACKUP_USAGE}
`;

export async function main(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'analyze':
      return analyzeCommand(rest, env);
    case 'convert':
      return convertCommand(rest, env);
    case 'evaluate':
      return evaluateCommand(rest);
    case 'phantoms':
      return phantomsCommand(rest);
    case 'backup':
      return backupCommand(rest, env);
    case 'training-set':
      return trainingSetCommand(rest);
    case undefined:
    case 'help':
    case '--help':
      printOut(...ownLines(USAGE));
      return command === undefined ? EXIT.usage : EXIT.ok;
    default:
      printErr(`knee-tumor: unknown command ${command}`, ...ownLines(USAGE));
      return EXIT.usage;
  }
}
