import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'var/', '.tmp/', 'proto/gen/**', '**/*.generated.ts'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      'no-console': 'off',
      eqeqeq: ['error', 'always'],
    },
  },
  // DESIGN.md's folder rules: the provisioner runs as root and must not be able to reach the store or
  // the domain; `shared/` is what both processes use, so it may import neither.
  {
    files: ['provisioner/**/*.ts', 'shared/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/appliance/**', '**/portal/**', '**/radius/**'],
              message: 'The provisioner and shared/ import only shared/ and proto/.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['shared/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/provisioner/**', '**/appliance/**', '**/portal/**', '**/radius/**'],
              message: 'shared/ knows no process: it imports neither the appliance nor the provisioner.',
            },
          ],
        },
      ],
    },
  },
);
