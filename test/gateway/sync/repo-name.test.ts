import { isValidRepoPrefix, repoNameFor, slugOf } from '../../../gateway/sync/repo-name.js';

describe('repository names', () => {
  test.each([
    ['Customer Console', 'customer-console'],
    ['  Café   Crème  ', 'cafe-creme'],
    ["Bob's App!", 'bobs-app'],
    ['Ünïcödé_Names.v2', 'unicode-names-v2'],
    ['--Already--dashed--', 'already-dashed'],
    ['東京', 'app'],
    ['', 'app'],
    ['Ⅻ Roman ﬁne', 'xii-roman-fine'],
  ])('the slug of %j is %j', (name, slug) => {
    expect(slugOf(name)).toBe(slug);
  });

  test('uses the prefix, default second-app', () => {
    expect(repoNameFor('Customer Console')).toBe('second-app-customer-console');
    expect(repoNameFor('Customer Console', { prefix: 'acme' })).toBe('acme-customer-console');
  });

  test('appends the first 8 characters of the app id when disambiguating', () => {
    expect(repoNameFor('Customer Console', { appId: 'abcdefghijklmnop', disambiguate: true })).toBe(
      'second-app-customer-console-abcdefgh',
    );
  });

  test('never passes 100 characters, even with the suffix, and ends on no dash', () => {
    const long = 'word '.repeat(60);
    const plain = repoNameFor(long);
    const suffixed = repoNameFor(long, { appId: 'abcdefghijkl', disambiguate: true });
    expect(plain.length).toBeLessThanOrEqual(100);
    expect(suffixed.length).toBeLessThanOrEqual(100);
    expect(suffixed.endsWith('-abcdefgh')).toBe(true);
    expect(plain).not.toMatch(/-$/);
    expect(suffixed).not.toMatch(/--/);
  });

  test('accepts only lower-case, digit and single-dash prefixes', () => {
    expect(isValidRepoPrefix('second-app')).toBe(true);
    expect(isValidRepoPrefix('acme2')).toBe(true);
    for (const bad of ['', 'Acme', 'a--b', '-a', 'a-', 'a_b', 'a b', 'x'.repeat(41)]) {
      expect(isValidRepoPrefix(bad)).toBe(false);
    }
  });
});
