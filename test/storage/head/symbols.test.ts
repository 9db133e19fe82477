import { describe, expect, it } from 'vitest';
import { SymbolTable } from '../../../src/storage/head/symbols.js';

describe('SymbolTable', () => {
  it('interns each distinct string once and round-trips ids', () => {
    const s = new SymbolTable();
    const a = s.intern('job');
    const b = s.intern('api');
    expect(s.intern('job')).toBe(a);
    expect(a).not.toBe(b);
    expect(s.str(a)).toBe('job');
    expect(s.str(b)).toBe('api');
    expect(s.lookup('api')).toBe(b);
    expect(s.lookup('nope')).toBe(-1);
    expect(s.size).toBe(2);
    expect(s.refCount(a)).toBe(2);
  });

  it('forgets a string when its last reference is released and reuses the id', () => {
    const s = new SymbolTable();
    const a = s.intern('x');
    s.intern('x');
    s.release(a);
    expect(s.lookup('x')).toBe(a);
    s.release(a);
    expect(s.lookup('x')).toBe(-1);
    expect(s.size).toBe(0);
    s.release(a); // extra release is harmless
    expect(s.refCount(a)).toBe(0);
    const b = s.intern('y');
    expect(b).toBe(a);
    expect(s.str(b)).toBe('y');
  });

  it('grows past its initial capacity', () => {
    const s = new SymbolTable();
    const ids = Array.from({ length: 5000 }, (_, i) => s.intern(`v${i}`));
    expect(new Set(ids).size).toBe(5000);
    ids.forEach((id, i) => expect(s.str(id)).toBe(`v${i}`));
  });
});
