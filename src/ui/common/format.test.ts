import { describe, expect, it } from 'vitest';
import { compactNumber, duration, percent, valueAsText } from './format';

describe('format', () => {
  it('formats fractions, sizes and durations', () => {
    expect(percent(0.4686)).toBe('46.9%');
    expect(percent(1, 0)).toBe('100%');
    expect(percent(null)).toBe('—');
    expect(percent(Number.NaN)).toBe('—');
    expect(compactNumber(853_018)).toBe('853.0 k');
    expect(compactNumber(125_485_706)).toBe('125.49 M');
    expect(compactNumber(42)).toBe('42');
    expect(compactNumber(0.01234)).toBe('0.0123');
    expect(duration(3.25)).toBe('3.3 s');
    expect(duration(125)).toBe('2 min 5 s');
    expect(duration(7260)).toBe('2 h 1 min');
  });

  it('turns any untrusted value into short text', () => {
    expect(valueAsText('<img src=x onerror=alert(1)>')).toBe('<img src=x onerror=alert(1)>');
    expect(valueAsText({ a: [1, 2] })).toBe('{"a":[1,2]}');
    expect(valueAsText(undefined)).toBe('(missing)');
    expect(valueAsText('x'.repeat(200), 10)).toBe(`${'x'.repeat(9)}…`);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(valueAsText(cyclic)).toBe('[object Object]');
  });
});
