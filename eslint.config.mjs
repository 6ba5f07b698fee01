// @ts-check
import eslint from '@eslint/js';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const LIVE_PAGE_SCRIPTS = 'apps/gateway/src/live/page/**/*.js';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', '.cache/', 'test/logs/'] },
  eslint.configs.recommended,
  ...tseslint.configs.recommended,
  {
    ignores: [LIVE_PAGE_SCRIPTS],
    languageOptions: {
      globals: { ...globals.node, ...globals.jest },
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // Unused names are errors, except the ones a signature or a destructuring must name.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // The promise rules need types: a promise is awaited, returned or marked `void` on purpose,
      // since a forgotten one hides a failure (or, as a reply, crashes the process).
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/return-await': ['error', 'in-try-catch'],
      // Every database session runs in UTC (see libs/database/src/database.ts): connections come from its helpers.
      'no-restricted-imports': [
        'error',
        ...['mysql2', 'mysql2/promise'].map((name) => ({
          name,
          importNames: ['default', 'createConnection', 'createPool', 'createPoolCluster', 'connect'],
          message: 'Open connections with connectUtc, createUtcPool or dataSourceOptions from @app/database, so their sessions run in UTC.',
        })),
      ],
    },
  },
  {
    files: ['libs/database/src/database.ts'],
    rules: { 'no-restricted-imports': 'off' },
  },
  {
    // Tests read JSON answers whose shape is what they check.
    files: ['test/**/*.ts', '**/*.spec.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // Plain JavaScript (build helpers, this file): no type information to lint with.
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
    rules: { ...tseslint.configs.disableTypeChecked.rules, '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // The live page's script runs in the browser, as a module: browser globals, and no Node ones.
    files: [LIVE_PAGE_SCRIPTS],
    languageOptions: { sourceType: 'module', globals: globals.browser },
  },
  prettier,
);
