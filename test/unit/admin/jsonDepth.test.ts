import { describe, expect, it } from 'vitest';
import { findExcessDepth } from '../../../src/admin/jsonDepth.js';

describe('findExcessDepth', () => {
  it.each([
    ['a scalar', '42', 1],
    ['a string', '"{[{["', 1],
    ['an empty object at depth 1', '{}', 1],
    ['two levels at a limit of 2', '{"a":[1,2]}', 2],
    ['siblings do not add up', '[[1],[2],{"a":[3]}]', 3],
    ['brackets inside strings', '{"a":"[[[[{{{{"}', 1],
    ['escaped quotes inside strings', '{"a":"\\"[[[[\\\\"}', 1],
    ['a key holding brackets', '{"[[[":1}', 1],
    ['an unterminated string (left to the parser)', '["[[[[', 1],
    ['unbalanced closing brackets (left to the parser)', ']]]]{}', 1],
  ])('accepts %s', (_name, text, maxDepth) => {
    expect(findExcessDepth(text, maxDepth)).toBeNull();
  });

  it.each([
    ['a nested object', '{"a":{"b":{"c":1}}}', 2, 'a.b', 10],
    ['arrays by index', '[0,[1,2,[3]]]', 2, '1.2', 8],
    ['the top level itself at a limit of 0', '[]', 0, '(body)', 0],
    ['the key in force after a comma', '{"a":1,"b":{"c":{}}}', 2, 'b.c', 16],
    ['an escaped key, unescaped', '{"a\\"b":[[]]}', 2, 'a"b.0', 9],
    ['a key after a string value with brackets', '{"x":"}]","y":[[1]]}', 2, 'y.0', 15],
    ['the first excess only', '[[[1]],[[[[[2]]]]]]', 3, '1.0.0', 9],
  ])('finds %s', (_name, text, maxDepth, path, offset) => {
    expect(findExcessDepth(text, maxDepth)).toEqual({ path, offset });
  });

  it('cuts long keys and long paths short', () => {
    const key = 'k'.repeat(100);
    const text = `${`{"${key}":`.repeat(20)}1${'}'.repeat(20)}`;
    const found = findExcessDepth(text, 10);
    expect(found?.path.length).toBeLessThanOrEqual(513);
    expect(found?.path.startsWith(`${'k'.repeat(64)}….`)).toBe(true);
  });

  it('scans millions of brackets without recursion', () => {
    const text = `${'['.repeat(2_000_000)}${']'.repeat(2_000_000)}`;
    expect(findExcessDepth(text, 32)?.offset).toBe(32);
    expect(findExcessDepth(text, 3_000_000)).toBeNull();
  });
});
