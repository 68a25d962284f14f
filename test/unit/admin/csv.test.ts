import { describe, expect, it } from 'vitest';
import { CsvError, CsvTooManyRecords, parseCsv } from '../../../src/admin/csv.js';

const fields = (text: string) => parseCsv(text).map((r) => r.fields);

describe('parseCsv (RFC 4180)', () => {
  it.each([
    ['plain fields', 'a,b,c\n1,2,3', [['a', 'b', 'c'], ['1', '2', '3']]],
    ['CRLF line ends and a final line break', 'a,b\r\n1,2\r\n', [['a', 'b'], ['1', '2']]],
    ['empty fields, also at the end', 'a,,c,\n,,,', [['a', '', 'c', ''], ['', '', '', '']]],
    ['quoted commas', '"x, y",z', [['x, y', 'z']]],
    ['doubled quotes inside quotes', '"say ""hi""",b', [['say "hi"', 'b']]],
    ['line breaks inside quotes', '"line 1\r\nline 2",b\nnext,row', [['line 1\r\nline 2', 'b'], ['next', 'row']]],
    ['an empty quoted field', 'a,"",c', [['a', '', 'c']]],
    ['a quoted last field without final newline', 'a,"b"', [['a', 'b']]],
    ['blank lines skipped', 'a\n\n\nb\n', [['a'], ['b']]],
    ['a UTF-8 byte order mark', '\uFEFFa,b', [['a', 'b']]],
    ['spaces kept as data', ' a , b ', [[' a ', ' b ']]],
    ['nothing at all', '', []],
  ])('reads %s', (_name, text, expected) => {
    expect(fields(text)).toEqual(expected);
  });

  it('gives the line each record starts on', () => {
    expect(parseCsv('h1,h2\n"multi\nline",x\n\nlast,y').map((r) => r.line)).toEqual([1, 2, 5]);
  });

  it.each([
    ['an unterminated quote', 'a,"open\nstill open', 1, /unterminated/],
    ['text after a closing quote', 'a\n"b"c,d', 2, /after a closing quote/],
    ['a bare quote inside an unquoted field', 'a\nb"c', 2, /must be quoted/],
  ])('refuses %s with its line', (_name, text, line, message) => {
    let error: unknown;
    try {
      parseCsv(text);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(CsvError);
    expect((error as CsvError).line).toBe(line);
    expect((error as CsvError).message).toMatch(message);
  });

  it('reads long fields and many records whole', () => {
    const long = 'x'.repeat(1_000_000);
    expect(fields(`a,"${long}\n${long}",${long}\nb`)).toEqual([['a', `${long}\n${long}`, long], ['b']]);
    const many = Array.from({ length: 5000 }, (_, i) => `${i},"q ${i}"`).join('\r\n');
    const records = parseCsv(many);
    expect(records).toHaveLength(5000);
    expect(records[4999]).toEqual({ line: 5000, fields: ['4999', 'q 4999'] });
  });

  it('stops past maxRecords', () => {
    expect(parseCsv('a\nb\nc', 3)).toHaveLength(3);
    expect(() => parseCsv('a\nb\nc\nd', 3)).toThrow(CsvTooManyRecords);
  });
});
