/**
 * A site's metadata table, one row per radiograph, read from CSV or from the first worksheet of an
 * XLSX workbook: the header row names the columns, every cell is read as the text it shows (so an
 * id like "00123" keeps its zeros and a number is never turned into a date).
 *
 * XLSX is read with exceljs: it reads and writes workbooks, ships CommonJS with its own types, and
 * is the most used maintained workbook library on npm (the `xlsx` package there is a 2022 release
 * with published advisories; its newer versions are not on npm).
 */
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { parse } from 'csv-parse/sync';
import ExcelJS from 'exceljs';
import { KneeTumorError, messageOf } from '../errors';

export interface MetadataRow {
  /** Where the row is, for messages: "dataset.xlsx row 7". */
  where: string;
  /** Cell text by column header, trimmed; an empty cell is "". */
  cells: Record<string, string>;
}

export interface MetadataTable {
  headers: string[];
  rows: MetadataRow[];
}

function bad(reason: string): KneeTumorError {
  return new KneeTumorError('bad-request', reason);
}

function toTable(grid: string[][], name: string, rowLabel: string): MetadataTable {
  const [header, ...body] = grid;
  if (!header || header.every((h) => h === '')) throw bad(`${name} has no header row`);
  const headers = header.map((h) => h.trim());
  const repeated = headers.find((h, i) => h !== '' && headers.indexOf(h) !== i);
  if (repeated !== undefined) throw bad(`${name}: the column "${repeated}" appears twice in the header`);
  const rows: MetadataRow[] = [];
  body.forEach((cells, i) => {
    if (cells.every((c) => c.trim() === '')) return;
    const record: Record<string, string> = {};
    headers.forEach((h, c) => {
      if (h !== '') record[h] = (cells[c] ?? '').trim();
    });
    rows.push({ where: `${name} ${rowLabel} ${i + 2}`, cells: record });
  });
  return { headers: headers.filter((h) => h !== ''), rows };
}

function readCsv(text: string, name: string): MetadataTable {
  let grid: string[][];
  try {
    grid = parse(text, { bom: true, relax_column_count: true, skip_empty_lines: true });
  } catch (cause) {
    throw new KneeTumorError('bad-request', `${name} is not readable CSV: ${messageOf(cause)}`, { cause });
  }
  return toTable(grid, name, 'line');
}

async function readXlsx(bytes: Buffer, name: string): Promise<MetadataTable> {
  const workbook = new ExcelJS.Workbook();
  try {
    // exceljs declares its own Buffer type, which Node's generic Buffer does not match.
    await workbook.xlsx.load(bytes as unknown as Parameters<typeof workbook.xlsx.load>[0]);
  } catch (cause) {
    throw new KneeTumorError('bad-request', `${name} is not a readable XLSX workbook: ${messageOf(cause)}`, { cause });
  }
  const sheet = workbook.worksheets[0];
  if (!sheet) throw bad(`${name} has no worksheet`);
  const grid: string[][] = [];
  for (let r = 1; r <= sheet.rowCount; r++) {
    const row = sheet.getRow(r);
    const cells: string[] = [];
    for (let c = 1; c <= sheet.columnCount; c++) cells.push(row.getCell(c).text ?? '');
    grid.push(cells);
  }
  return toTable(grid, name, 'row');
}

/** Reads a .csv or .xlsx table; the extension says which. */
export async function readMetadataTable(file: string): Promise<MetadataTable> {
  const name = path.basename(file);
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (cause) {
    throw new KneeTumorError('bad-request', `cannot read the metadata table ${file}: ${(cause as NodeJS.ErrnoException).code ?? messageOf(cause)}`, { cause });
  }
  const extension = path.extname(file).toLowerCase();
  if (extension === '.csv') return readCsv(bytes.toString('utf8'), name);
  if (extension === '.xlsx') return readXlsx(bytes, name);
  throw bad(`the metadata table ${name} must be .csv or .xlsx`);
}
