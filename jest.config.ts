import type { Config } from 'jest';

/** Shared by every tier: ESM TypeScript through ts-jest, `@app/*` aliases, `.js` suffixes stripped. */
const base = {
  extensionsToTreatAsEsm: ['.ts'],
  moduleFileExtensions: ['ts', 'js', 'json'],
  testEnvironment: 'node',
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }],
  },
  moduleNameMapper: {
    '^@app/events$': '<rootDir>/libs/events/src/index.ts',
    '^@app/messaging$': '<rootDir>/libs/messaging/src/index.ts',
    '^@app/testing$': '<rootDir>/libs/testing/src/index.ts',
    '^@app/platform$': '<rootDir>/libs/platform/src/index.ts',
    '^@app/contracts$': '<rootDir>/libs/contracts/src/index.ts',
    '^@app/service$': '<rootDir>/libs/service/src/index.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  testPathIgnorePatterns: ['/node_modules/', '/dist/', '/bench/peers/'],
} satisfies Config;

const config: Config = {
  // Per-project testTimeout is ignored by Jest; integration and e2e tests need the room.
  testTimeout: 90_000,
  projects: [
    { ...base, displayName: 'unit', testMatch: ['<rootDir>/{apps,libs,tools,test}/**/*.spec.ts'] },
    {
      ...base,
      displayName: 'integration',
      testMatch: ['<rootDir>/{apps,libs,test}/**/*.int-spec.ts'],
    },
    {
      ...base,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'],
    },
  ],
};

export default config;
