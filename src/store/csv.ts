// Minimal RFC 4180 CSV: quoted fields, "" escapes, CRLF or LF. Records carry the line they start on
// so import errors can point at the operator's file.
export interface CsvRecord {
  line: number;
  fields: string[];
}

export class CsvError extends Error {
  override name = "CsvError";
  constructor(readonly line: number, reason: string) {
    super(`line ${line}: ${reason}`);
  }
}

export function parseCsv(text: string): CsvRecord[] {
  const records: CsvRecord[] = [];
  let fields: string[] = [];
  let field = "";
  let line = 1;
  let start = 1;
  let i = 0;
  let quoted = false;
  let fieldStarted = false;
  const endRecord = () => {
    fields.push(field);
    if (!(fields.length === 1 && fields[0] === "" && !fieldStarted)) records.push({ line: start, fields });
    fields = [];
    field = "";
    fieldStarted = false;
  };
  if (text.charCodeAt(0) === 0xfeff) i = 1; // BOM from spreadsheet exports
  for (; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else {
        if (c === "\n") line++;
        field += c;
      }
      continue;
    }
    if (c === '"' && field.length > 0) {
      field += c; // a quote inside an unquoted field is data (as spreadsheets read it)
    } else if (c === '"') {
      quoted = true;
      fieldStarted = true;
    } else if (c === ",") {
      fields.push(field);
      field = "";
      fieldStarted = true;
    } else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      endRecord();
      line++;
      start = line;
    } else {
      field += c;
      fieldStarted = true;
    }
  }
  if (quoted) throw new CsvError(start, "unterminated quoted field");
  if (field.length > 0 || fields.length > 0 || fieldStarted) endRecord();
  return records;
}

export function csvField(v: string | null): string {
  if (v === null) return "";
  return /[",\r\n]/.test(v) || v !== v.trim() ? `"${v.replace(/"/g, '""')}"` : v;
}
