import iconv from 'iconv-lite';
import ExcelJS from 'exceljs';

/**
 * The organisation file format shared by import and export: CSV (UTF-8 with or without BOM, or
 * GB18030 as Excel writes it on Chinese Windows) or XLSX; a header row, Chinese or English headers.
 */

export type TableKind = 'csv' | 'xlsx';

export const columns = [
  'username',
  'displayName',
  'employeeNo',
  'department',
  'title',
  'phone',
  'email',
  'primary',
  'password',
] as const;
export type Column = (typeof columns)[number];

const aliases: Record<Column, string[]> = {
  username: ['username', 'user', 'login', '用户名', '账号', '帐号', '登录名'],
  displayName: ['displayname', 'name', 'fullname', '姓名', '名字'],
  employeeNo: ['employeeno', 'employeenumber', 'employeeid', '工号', '员工编号', '员工号'],
  department: ['department', 'dept', '部门', '所属部门'],
  title: ['title', 'position', 'jobtitle', '职务', '职位', '岗位'],
  phone: ['phone', 'mobile', '手机', '手机号', '手机号码', '电话'],
  email: ['email', 'mail', '邮箱', '电子邮箱', '邮件'],
  primary: ['primary', 'isprimary', '主岗', '主部门', '是否主岗'],
  password: ['password', '密码', '初始密码'],
};

/** Headers as export writes them. */
export const exportHeaders: Record<Exclude<Column, 'password'>, string> = {
  username: '用户名',
  displayName: '姓名',
  employeeNo: '工号',
  department: '部门',
  title: '职务',
  phone: '手机',
  email: '邮箱',
  primary: '主岗',
};

export function tableKindOf(file: string): TableKind {
  return /\.xlsx$/i.test(file) ? 'xlsx' : 'csv';
}

/** Map header cells to columns; unknown headers are reported. */
export function mapHeader(header: string[]): { index: Partial<Record<Column, number>>; unknown: string[] } {
  const index: Partial<Record<Column, number>> = {};
  const unknown: string[] = [];
  header.forEach((raw, i) => {
    const h = raw
      .trim()
      .toLowerCase()
      .replace(/[\s_\-()（）]/g, '');
    const col = columns.find((c) => aliases[c].includes(h));
    if (col && index[col] === undefined) index[col] = i;
    else if (h) unknown.push(raw);
  });
  return { index, unknown };
}

/** Text of a CSV file: UTF-8 (BOM or not) when it is valid UTF-8, else GB18030. */
export function decodeText(buf: Buffer): string {
  if (buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) return buf.subarray(3).toString('utf8');
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(buf);
  } catch {
    return iconv.decode(buf, 'gb18030');
  }
}

/** RFC 4180 CSV: quoted fields with "" escapes and line breaks; CRLF or LF. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"' && field === '') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += ch;
  }
  if (field !== '' || row.length) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

/** All rows of the file (the first is the header), as text cells. */
export async function readTable(buf: Buffer, kind: TableKind): Promise<string[][]> {
  if (kind === 'csv') return parseCsv(decodeText(buf));
  const wb = new ExcelJS.Workbook();
  // exceljs declares its own Buffer type; Node's Buffer is what it reads.
  await wb.xlsx.load(buf as unknown as ExcelJS.Buffer);
  const sheet = wb.worksheets[0];
  if (!sheet) return [];
  const rows: string[][] = [];
  const width = sheet.columnCount;
  sheet.eachRow({ includeEmpty: true }, (r, n) => {
    const cells: string[] = [];
    for (let c = 1; c <= width; c++) cells.push(r.getCell(c).text ?? '');
    rows[n - 1] = cells;
  });
  return Array.from(rows, (r) => r ?? []);
}

const csvField = (v: string) => (/[",\r\n]/.test(v) || /^\s|\s$/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

/** The file bytes: CSV as UTF-8 with a BOM (so Excel shows Chinese correctly), or XLSX. */
export async function writeTable(rows: string[][], kind: TableKind): Promise<Buffer> {
  if (kind === 'csv') return Buffer.from('\uFEFF' + rows.map((r) => r.map(csvField).join(',')).join('\r\n') + '\r\n');
  const wb = new ExcelJS.Workbook();
  const sheet = wb.addWorksheet('组织架构');
  // Text cells throughout: employee numbers and phones keep their leading zeros.
  for (const r of rows) sheet.addRow(r).eachCell((cell) => (cell.numFmt = '@'));
  sheet.columns.forEach((c) => (c.width = 18));
  return Buffer.from(await wb.xlsx.writeBuffer());
}
