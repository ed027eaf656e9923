/** Reads the evaluation's input files: JSON, or JSON Lines (one document per line) for predictions. */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { KneeTumorError, messageOf } from '../../errors';
import type { SourcedDocument } from './validate';

async function readText(path: string, option: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new KneeTumorError('bad-request', `${option} ${basename(path)}: the file cannot be read`, { cause: error });
  }
}

/** One JSON document. */
export async function readJsonFile(path: string, option: string): Promise<SourcedDocument> {
  const text = await readText(path, option);
  const where = basename(path);
  try {
    return { value: JSON.parse(text), where };
  } catch (error) {
    throw new KneeTumorError('bad-request', `${where}: not valid JSON (${messageOf(error)})`, { cause: error });
  }
}

/** One JSON document, or, when the text is not one, JSON Lines (blank lines skipped). */
export async function readJsonOrJsonLines(path: string, option: string): Promise<SourcedDocument[]> {
  const text = await readText(path, option);
  const where = basename(path);
  try {
    return [{ value: JSON.parse(text), where }];
  } catch {
    return text.split(/\r?\n/).flatMap((line, index) => {
      if (line.trim() === '') return [];
      try {
        return [{ value: JSON.parse(line), where: `${where} line ${index + 1}` }];
      } catch (error) {
        throw new KneeTumorError('bad-request', `${where} line ${index + 1}: neither a JSON file nor valid JSON Lines`, {
          cause: error,
        });
      }
    });
  }
}
