import { describe, expect, it } from 'vitest';
import { classifyRequest } from '../../src/classify';
import vectorMismatches from '../support/match-vector.js';
import table from '../vectors.json' with { type: 'json' };

describe('shared vectors (Node)', () => {
  it.each(table.vectors.map((v) => [v.name, v] as const))('%s', (_name, vector) => {
    const options = vector.options ? (table.optionSets as Record<string, object>)[vector.options] : undefined;
    expect(vectorMismatches(vector, classifyRequest(vector.request, options))).toEqual([]);
  });
});
